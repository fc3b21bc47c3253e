// Memory budget (--memory-budget SIZE): a worker watches its own peak RSS and
// stops with an error naming its rank, the budget and the peak once it crosses
// the budget.
//
// A MemoryWatch owns one background thread that reads the kernel's high-water
// mark (VmHWM, see memory_meter.h) every `poll_seconds`. The watch surfaces a
// crossing in two ways:
//   - check(), called by the training loop (e.g. once per step), throws Error.
//     It also reads VmHWM itself, so it never waits for the next poll.
//   - `on_exceeded`, when set, runs once on the watcher thread at the first poll
//     that sees the crossing. It exists because a large allocation between two
//     check() calls could take the device down (swap storm, OOM kill) before
//     the loop gets to throw. The CLI installs exit_over_budget() here, which
//     prints the message and ends the process with kExitOverBudget.
// The peak is the whole process's since start (or since reset_peak_rss()), so
// memory used before the watch started counts too.
//
// Thread-safety: check(), exceeded(), peak_bytes() and message() may be called
// from any thread. The destructor stops and joins the watcher thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace edgegnn::runtime {

// Exit code of a worker that exit_over_budget() stopped; the launcher names it
// ("rank 2 exited with code 3 (over its memory budget)"). 2 is taken by Error
// at the CLI, so a budget crossing stays distinguishable in scripts.
inline constexpr int kExitOverBudget = 3;

struct MemoryWatchOptions {
  int rank = 0;              // named in the message
  int64_t budget_bytes = 0;  // must be > 0; crossing means peak > budget
  double poll_seconds = 0.05;
  // Runs once, on the watcher thread, with the message of the first crossing.
  // Empty: only check() reports. Must be thread-safe with the training loop.
  std::function<void(const std::string& message)> on_exceeded;
};

class MemoryWatch {
 public:
  // Starts the watcher thread. Throws Error for a budget <= 0 or a poll
  // interval <= 0.
  explicit MemoryWatch(MemoryWatchOptions options);
  ~MemoryWatch();
  MemoryWatch(const MemoryWatch&) = delete;
  MemoryWatch& operator=(const MemoryWatch&) = delete;

  // Throws Error with message() when the peak has crossed the budget.
  void check();
  bool exceeded() const { return exceeded_.load(); }
  // Highest VmHWM this watch has seen, in bytes.
  int64_t peak_bytes() const { return peak_bytes_.load(); }
  int64_t budget_bytes() const { return options_.budget_bytes; }
  // "" until the budget is crossed, then e.g.
  // "rank 2: peak memory 1.2 GiB crossed the budget of 1.0 GiB (--memory-budget)".
  std::string message() const;

 private:
  // Reads VmHWM into peak_bytes_; the first crossing records message_.
  void observe();
  void run();

  const MemoryWatchOptions options_;
  std::atomic<int64_t> peak_bytes_{0};
  std::atomic<bool> exceeded_{false};
  mutable std::mutex mutex_;  // guards message_ and stop_
  std::condition_variable wake_;
  std::string message_;
  bool stop_ = false;
  std::thread thread_;
};

// The message for a crossing, shared by MemoryWatch and tests.
std::string format_over_budget(int rank, int64_t peak_bytes, int64_t budget_bytes);

// The handler the CLI installs as MemoryWatchOptions::on_exceeded. Writes
// "edgegnn: error: <message>" as one line on stderr, flushes stdout, and ends
// the process at once with _exit(kExitOverBudget): no destructors run, because
// the training thread is still using them. This is the one place in the library
// that prints and exits; it is the runtime's job here, not an error path.
[[noreturn]] void exit_over_budget(const std::string& message);

}  // namespace edgegnn::runtime
