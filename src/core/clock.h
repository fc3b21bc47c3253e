// Wall-clock timing for progress lines, metrics and benchmarks.
#pragma once

#include <chrono>

namespace edgegnn {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace edgegnn
