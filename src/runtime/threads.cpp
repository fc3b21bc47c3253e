#include "runtime/threads.h"

#include <dlfcn.h>

#include <cstdlib>

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
  // Even alone, a pool thread spins ~0.1 s (2^28 cycles) after each GEMM,
  // taking a core from the aggregation, dropout and sampler threads that run
  // between GEMMs (a tenth of a SAGE batch's CPU time went to sched_yield).
  // OpenBLAS reads its timeout when it starts its pool, so the pool restarts
  // (at the next GEMM) with the shortest one unless the user chose another.
  auto read_env = reinterpret_cast<void (*)()>(::dlsym(RTLD_DEFAULT, "openblas_read_env"));
  auto stop_pool = reinterpret_cast<int (*)()>(::dlsym(RTLD_DEFAULT, "blas_thread_shutdown_"));
  if (read_env && stop_pool && !std::getenv("OPENBLAS_THREAD_TIMEOUT")) {
    ::setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0);
    read_env();
    stop_pool();
  }
  return at::get_num_threads();
}

}  // namespace edgegnn::runtime
