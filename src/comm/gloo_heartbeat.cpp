#include "comm/gloo_heartbeat.h"

#include <fmt/format.h>

#include <sstream>

namespace edgegnn::comm {
namespace {

using Clock = std::chrono::steady_clock;

// A peer is silent after this many periods without a new beat: one period may
// pass between its write and our read, and scheduling jitters.
constexpr int kSilentPeriods = 3;

std::string beat_key(int rank) { return fmt::format("edgegnn/beat/{}", rank); }

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string message_of(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) {
    return c10_error->what_without_backtrace();
  }
  return e.what();
}

struct Beat {
  int64_t num_collectives = -1;  // -1: never heard
  std::string op;
};

Beat parse_beat(const std::string& value) {
  Beat beat;
  int64_t counter;
  std::istringstream(value) >> counter >> beat.num_collectives >> beat.op;
  return beat;
}

}  // namespace

GlooHeartbeat::GlooHeartbeat(c10::intrusive_ptr<c10d::Store> store, int rank, int size,
                             std::chrono::milliseconds period, std::function<Status()> status)
    : store_(std::move(store)),
      rank_(rank),
      size_(size),
      period_(period),
      status_(std::move(status)),
      peers_(size) {
  const auto now = Clock::now();
  for (Peer& peer : peers_) peer.changed = now;
  store_answered_ = now;
  thread_ = std::thread([this] { loop(); });
}

GlooHeartbeat::~GlooHeartbeat() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  thread_.join();
}

void GlooHeartbeat::loop() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    lock.unlock();
    try {
      beat_once();
    } catch (const std::exception& e) {
      // The store is gone (rank 0 died or exited): nothing more to learn.
      lock.lock();
      store_error_ = message_of(e);
      return;
    }
    lock.lock();
    stop_cv_.wait_for(lock, period_, [this] { return stop_; });
  }
}

void GlooHeartbeat::beat_once() {
  const Status status = status_();
  const std::string value = fmt::format("{} {} {}", ++beat_, status.num_collectives, status.op);
  store_->set(beat_key(rank_), std::vector<uint8_t>(value.begin(), value.end()));

  // Only this thread writes peers_, so it may read them without the lock.
  std::vector<std::string> values(size_);
  for (int p = 0; p < size_; ++p) {
    if (p == rank_) continue;
    // get() would block until a peer's first beat; check() does not.
    if (peers_[p].value.empty() && !store_->check({beat_key(p)})) continue;
    const std::vector<uint8_t> bytes = store_->get(beat_key(p));
    values[p].assign(bytes.begin(), bytes.end());
  }
  const auto now = Clock::now();
  std::lock_guard lock(mutex_);
  for (int p = 0; p < size_; ++p) {
    if (values[p].empty() || values[p] == peers_[p].value) continue;
    peers_[p].value = std::move(values[p]);
    peers_[p].changed = now;
  }
  store_answered_ = now;
}

std::string GlooHeartbeat::store_trouble(Clock::time_point now) const {
  if (rank_ == 0) return "";  // the store runs inside this process
  if (!store_error_.empty()) return "rendezvous store is unreachable: " + store_error_;
  if (now - store_answered_ > kSilentPeriods * period_) {
    return fmt::format("rendezvous store has not answered for {:.1f} s",
                       seconds(now - store_answered_));
  }
  return "";
}

bool GlooHeartbeat::silent(int peer, Clock::time_point now) const {
  return now - peers_[peer].changed > kSilentPeriods * period_;
}

std::string GlooHeartbeat::describe_locked(int peer, Clock::time_point now) const {
  const std::string trouble = store_trouble(now);
  if (!trouble.empty()) {
    return peer == 0 ? "(its " + trouble + ")" : "(unknown: rank 0's " + trouble + ")";
  }
  if (silent(peer, now)) {
    return fmt::format("(no heartbeat for {:.1f} s)", seconds(now - peers_[peer].changed));
  }
  const Beat beat = parse_beat(peers_[peer].value);
  if (beat.num_collectives < 0) return "(not heard from yet)";
  return fmt::format("(alive, {}, at collective #{})", beat.op, beat.num_collectives);
}

void GlooHeartbeat::wait_for_silence(const std::function<bool(Clock::time_point)>& done) {
  // A peer that died just now beat at most one period ago, and we may read
  // that beat up to one period later: it shows as silent within this.
  const auto deadline = Clock::now() + (kSilentPeriods + 1) * period_;
  while (true) {
    const auto now = Clock::now();
    {
      std::lock_guard lock(mutex_);
      if (done(now) || now >= deadline) return;
    }
    std::this_thread::sleep_for(period_ / 10);
  }
}

std::string GlooHeartbeat::describe_missing(int64_t num_collectives) {
  wait_for_silence([&](Clock::time_point now) {
    if (!store_trouble(now).empty()) return true;
    for (int p = 0; p < size_; ++p) {
      if (p != rank_ && silent(p, now)) return true;
    }
    return false;
  });
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  if (!store_trouble(now).empty()) return "rank 0 " + describe_locked(0, now);
  std::string silent_ranks, late_ranks;
  for (int p = 0; p < size_; ++p) {
    if (p == rank_) continue;
    std::string* list = nullptr;
    if (silent(p, now)) {
      list = &silent_ranks;
    } else if (parse_beat(peers_[p].value).num_collectives < num_collectives) {
      list = &late_ranks;
    } else {
      continue;
    }
    *list += fmt::format("{}rank {} {}", list->empty() ? "" : " and ", p, describe_locked(p, now));
  }
  return silent_ranks.empty() ? late_ranks : silent_ranks;
}

std::string GlooHeartbeat::describe_peer(int peer) {
  wait_for_silence(
      [&](Clock::time_point now) { return !store_trouble(now).empty() || silent(peer, now); });
  std::lock_guard lock(mutex_);
  return describe_locked(peer, Clock::now());
}

}  // namespace edgegnn::comm
