// Wall-clock timing for progress lines, metrics and benchmarks, and the
// process's CPU time.
#pragma once

#include <time.h>

#include <chrono>

namespace edgegnn {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU seconds, user and system, of all the process's threads so far.
inline double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

}  // namespace edgegnn
