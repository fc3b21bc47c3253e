// Prefetcher: items 0..count-1 of a sequence, made in order on a thread of
// its own up to `depth` items ahead of the one in use, so that making the
// next overlaps using this one (a batch loader). With depth 0 each item is
// made inside next(), on the caller's thread: the same items, in series.
//
// next() is for one consumer thread and rethrows what `make` threw. The
// destructor lets the item being made finish, then joins the thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace edgegnn {

template <typename T>
class Prefetcher {
 public:
  Prefetcher(int64_t count, int depth, std::function<T(int64_t)> make)
      : count_(count), depth_(depth), make_(std::move(make)) {
    if (depth_ > 0) thread_ = std::thread([this] { run(); });
  }
  ~Prefetcher() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // The next item, or nullopt after the last.
  std::optional<T> next() {
    if (depth_ == 0) {
      if (taken_ == count_) return std::nullopt;
      return make_(taken_++);
    }
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !ready_.empty() || error_ || taken_ == count_; });
    if (ready_.empty()) {
      if (error_) std::rethrow_exception(error_);
      return std::nullopt;
    }
    T item = std::move(ready_.front());
    ready_.pop_front();
    ++taken_;
    lock.unlock();
    changed_.notify_all();
    return item;
  }

 private:
  void run() {
    for (int64_t i = 0; i < count_; ++i) {
      {
        std::unique_lock lock(mutex_);
        // Room for one more: the consumer holds one item, `depth_` wait.
        changed_.wait(lock, [&] {
          return stop_ || static_cast<int64_t>(ready_.size()) + 1 <= depth_;
        });
        if (stop_) return;
      }
      try {
        T item = make_(i);
        std::lock_guard lock(mutex_);
        ready_.push_back(std::move(item));
      } catch (...) {
        std::lock_guard lock(mutex_);
        error_ = std::current_exception();
        changed_.notify_all();
        return;
      }
      changed_.notify_all();
    }
  }

  const int64_t count_;
  const int depth_;
  const std::function<T(int64_t)> make_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<T> ready_;
  int64_t taken_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace edgegnn
