#include "runtime/threads.h"

#include <dlfcn.h>

#include <ATen/Parallel.h>

#include "core/error.h"
#include "core/parallel.h"

namespace edgegnn::runtime {

int configure_threads(int requested) {
  check(requested >= 0, "--threads: {} is negative (use 0 or omit it for all cores)", requested);
  const int threads = requested == 0 ? available_cores() : requested;
  at::set_num_threads(threads);
  // OpenBLAS's pthread pool ignores torch's setting and starts one thread per
  // core, which spin (sched_yield) after each GEMM: with several workers on
  // one machine they steal each other's cores. Looked up at run time because
  // the system BLAS may be another one.
  using SetThreads = void (*)(int);
  if (auto set_blas_threads =
          reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    set_blas_threads(threads);
  return at::get_num_threads();
}

}  // namespace edgegnn::runtime
