// parallel_for: splits [0, n) into `num_threads` contiguous chunks and runs
// fn(begin, end, chunk_index) on each, in its own std::thread. Chunk boundaries
// depend only on n and num_threads; code that must be deterministic whatever the
// thread count should key its randomness on the item, not on the chunk.
// The first exception thrown by any chunk is rethrown after all have joined.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace edgegnn {

// Cores available to this process (at least 1).
inline int available_cores() {
  return std::max(1u, std::thread::hardware_concurrency());
}

template <typename Fn>
void parallel_for(int64_t n, int num_threads, Fn&& fn) {
  num_threads = static_cast<int>(std::clamp<int64_t>(num_threads, 1, std::max<int64_t>(n, 1)));
  if (num_threads == 1) {
    fn(int64_t{0}, n, 0);
    return;
  }
  std::exception_ptr first_error;
  std::mutex error_mutex;
  std::vector<std::thread> threads;
  threads.reserve(num_threads);
  for (int t = 0; t < num_threads; ++t) {
    int64_t begin = n * t / num_threads, end = n * (t + 1) / num_threads;
    threads.emplace_back([&, begin, end, t] {
      try {
        fn(begin, end, t);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace edgegnn
