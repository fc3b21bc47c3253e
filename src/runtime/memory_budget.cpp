#include "runtime/memory_budget.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "core/error.h"
#include "runtime/memory_meter.h"
#include "runtime/size.h"

namespace edgegnn::runtime {

std::string format_over_budget(int rank, int64_t peak_bytes, int64_t budget_bytes) {
  return fmt::format("rank {}: peak memory {} crossed the budget of {} (--memory-budget)", rank,
                     format_bytes(peak_bytes), format_bytes(budget_bytes));
}

MemoryWatch::MemoryWatch(MemoryWatchOptions options) : options_(std::move(options)) {
  edgegnn::check(options_.budget_bytes > 0,
                 "rank {}: memory budget must be more than 0 bytes, got {}", options_.rank,
                 options_.budget_bytes);
  edgegnn::check(options_.poll_seconds > 0,
                 "rank {}: memory watch poll interval must be positive, got {} s", options_.rank,
                 options_.poll_seconds);
  thread_ = std::thread([this] { run(); });
}

MemoryWatch::~MemoryWatch() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void MemoryWatch::observe() {
  const int64_t peak = peak_rss_bytes();
  int64_t seen = peak_bytes_.load();
  while (peak > seen && !peak_bytes_.compare_exchange_weak(seen, peak)) {
  }
  if (peak <= options_.budget_bytes) return;
  std::lock_guard lock(mutex_);
  // The first crossing fixes the message, so check() and on_exceeded agree.
  if (exceeded_.load()) return;
  message_ = format_over_budget(options_.rank, peak, options_.budget_bytes);
  exceeded_.store(true);
}

void MemoryWatch::check() {
  observe();
  if (exceeded_.load()) throw Error(message());
}

std::string MemoryWatch::message() const {
  std::lock_guard lock(mutex_);
  return message_;
}

void MemoryWatch::run() {
  const auto interval = std::chrono::duration<double>(options_.poll_seconds);
  std::unique_lock lock(mutex_);
  while (!stop_) {
    lock.unlock();
    observe();
    if (exceeded_.load()) {
      // Also when check() saw the crossing first: the loop may allocate more
      // before it gets to throw.
      if (options_.on_exceeded) options_.on_exceeded(message());
      return;  // the message is fixed; nothing left to watch for
    }
    lock.lock();
    wake_.wait_for(lock, interval, [this] { return stop_; });
  }
}

void exit_over_budget(const std::string& message) {
  std::fflush(stdout);
  // write(2), not stdio: stderr's lock may be held by the training thread.
  const std::string line = "edgegnn: error: " + message + "\n";
  [[maybe_unused]] ssize_t written = ::write(STDERR_FILENO, line.data(), line.size());
  ::_exit(kExitOverBudget);
}

}  // namespace edgegnn::runtime
