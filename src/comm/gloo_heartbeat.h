// GlooHeartbeat: tells which rank of a gloo group went missing. Gloo's errors
// name a socket ("Read error [127.0.0.1]:31115: Connection reset by peer") or
// nothing ("Timed out waiting 3000ms for recv operation to complete"), never a
// rank. So a thread on every rank writes "<beat> <collectives> <op>" under
// "edgegnn/beat/<rank>" in the rendezvous store once a period and reads the
// other ranks' entries. When a call fails, describe_missing() names the ranks
// whose beat stopped, or that are alive but have not reached the collective.
// Rank 0 hosts the store, so a store that stops answering names rank 0.
//
// The thread owns its own store connection, so a store that hangs blocks only
// the beats; the destructor stops it (waiting at most the store's timeout).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <vector>

namespace edgegnn::comm {

class GlooHeartbeat {
 public:
  struct Status {
    int64_t num_collectives;  // entered so far
    const char* op;           // running operation or "idle"
  };

  // Starts beating `status()` into `store` every `period`.
  GlooHeartbeat(c10::intrusive_ptr<c10d::Store> store, int rank, int size,
                std::chrono::milliseconds period, std::function<Status()> status);
  GlooHeartbeat(const GlooHeartbeat&) = delete;
  GlooHeartbeat& operator=(const GlooHeartbeat&) = delete;
  ~GlooHeartbeat();

  // The ranks that left this rank waiting in collective number
  // `num_collectives`, e.g. "rank 2 (no heartbeat for 1.6 s)", or "" when
  // every peer is alive and there. Waits up to four periods for a silent
  // peer to show as such.
  std::string describe_missing(int64_t num_collectives);
  // What is known of `peer`, after the same wait: "(no heartbeat for 1.6 s)"
  // or "(alive, recv, at collective #6)".
  std::string describe_peer(int peer);

 private:
  struct Peer {
    std::string value;  // last value read, "" before the first
    std::chrono::steady_clock::time_point changed;
  };

  void loop();
  void beat_once();
  // Under mutex_: why rank 0 counts as missing ("" if its store answers), and
  // whether `peer`'s beat has stopped.
  std::string store_trouble(std::chrono::steady_clock::time_point now) const;
  bool silent(int peer, std::chrono::steady_clock::time_point now) const;
  std::string describe_locked(int peer, std::chrono::steady_clock::time_point now) const;
  // Waits until `done(now)` holds (checked under mutex_) or four periods pass.
  void wait_for_silence(const std::function<bool(std::chrono::steady_clock::time_point)>& done);

  const c10::intrusive_ptr<c10d::Store> store_;
  const int rank_;
  const int size_;
  const std::chrono::milliseconds period_;
  const std::function<Status()> status_;
  int64_t beat_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::vector<Peer> peers_;
  std::chrono::steady_clock::time_point store_answered_;  // last full round
  std::string store_error_;                               // why the store failed, if it did
  std::thread thread_;
};

}  // namespace edgegnn::comm
