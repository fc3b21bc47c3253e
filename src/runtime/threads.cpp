#include "runtime/threads.h"

#include <ATen/Parallel.h>

#include "core/error.h"
#include "core/parallel.h"

namespace edgegnn::runtime {

int configure_threads(int requested) {
  check(requested >= 0, "--threads: {} is negative (use 0 or omit it for all cores)", requested);
  const int threads = requested == 0 ? available_cores() : requested;
  at::set_num_threads(threads);
  return at::get_num_threads();
}

}  // namespace edgegnn::runtime
