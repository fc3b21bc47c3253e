// Communicator: the one way bytes move between edgegnn devices. A group of
// `size` processes, each holding one Communicator with its own `rank`, runs
// collectives (allreduce, alltoallv, broadcast, barrier) and tagged
// point-to-point messages (send, recv) over a backend: "gloo" (c10d's
// ProcessGroupGloo over a TCPStore rendezvous) or "mpi" (OpenMPI).
//
// The contract, as in c10d's ProcessGroupGloo:
//  * Every rank calls the collectives in the same order with matching sizes:
//    nothing but that order matches a collective with its peers.
//  * Buffers are borrowed for the whole call: they must stay alive and
//    untouched until the call returns; nothing is kept afterwards.
//  * Every blocking call is bounded by CommOptions::timeout (gloo bounds each
//    wait on a peer, mpi the whole call: see the backend headers). A peer that
//    dies or stops answering makes the call throw Error naming this rank, the
//    operation and, where it can be told, the missing rank:
//      "rank 0: allreduce #7 failed after 3.0 s waiting for rank 2 (...)".
//    After an Error the communicator is unusable (later calls throw at once)
//    and the process must exit non-zero: the group cannot be resynchronised.
//  * send blocks until the message is handed over and may wait for the
//    matching recv (as MPI_Send does), so two ranks must not both send first.
//  * A Communicator is used from one thread. An allreduce may be started
//    and waited for later (allreduce_start): the backend moves its bytes
//    while this thread computes, and it counts as a collective issued when
//    started, so every rank must start it at the same point in the order.
//
// Byte counters, per peer, kept here once for every backend. They follow one
// nominal model, the same for gloo and mpi, so runs compare across backends;
// control messages (sizes, barrier tokens, rendezvous) are not counted:
//  * allreduce of B bytes: a ring, 2*(N-1)*B/N bytes (integer division) sent
//    to rank+1 and received from rank-1 (mod N); the backends' algorithms
//    differ in detail but move about this much.
//  * broadcast of B bytes: the root sends B to every other rank.
//  * alltoallv, send, recv: exactly the bytes addressed to or from each peer;
//    a rank's part for itself is not counted.
#pragma once

#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace edgegnn::comm {

struct CommOptions {
  std::string backend = "gloo";           // "gloo" or "mpi"
  int rank = 0;                           // this process, in [0, size); mpi takes it from MPI
  int size = 1;                           // processes in the group; mpi takes it from MPI
  std::string master_addr = "127.0.0.1";  // gloo: host of rank 0, which hosts the TCPStore
  int master_port = 29500;                // gloo: TCPStore port on master_addr
  // gloo: network interface to bind, e.g. "eth0"; "" binds the local address
  // that routes to master_addr (127.0.0.1 when master_addr is loopback).
  std::string interface;
  std::chrono::milliseconds timeout{60000};  // bound on every blocking call
  // gloo: bound on the rendezvous alone, which waits for the slowest rank to
  // start (libtorch loads in seconds on a busy board); 0 means `timeout`.
  std::chrono::milliseconds join_timeout{0};
};

// Element types the collectives carry.
enum class DataType : int8_t { kFloat32, kInt32, kInt64, kByte };

template <typename T>
constexpr DataType data_type_of() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, int32_t> ||
                    std::is_same_v<T, int64_t> || std::is_same_v<T, std::byte>,
                "collectives carry float, int32_t, int64_t or std::byte");
  if constexpr (std::is_same_v<T, float>) return DataType::kFloat32;
  if constexpr (std::is_same_v<T, int32_t>) return DataType::kInt32;
  if constexpr (std::is_same_v<T, int64_t>) return DataType::kInt64;
  return DataType::kByte;
}

int64_t data_type_size(DataType type);

enum class ReduceOp : int8_t { kSum, kAverage };

class Communicator {
 public:
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;
  virtual ~Communicator() = default;

  int rank() const { return rank_; }
  int size() const { return size_; }
  std::chrono::milliseconds timeout() const { return timeout_; }
  virtual const char* backend() const = 0;

  // Reduces `data` [in/out] elementwise across ranks, in place; every rank ends
  // with the same values. kAverage divides the sum by size().
  void allreduce(std::span<float> data, ReduceOp op = ReduceOp::kSum);
  // As above on a contiguous float32 CPU tensor.
  void allreduce(torch::Tensor& tensor, ReduceOp op = ReduceOp::kSum);

  // An operation started by allreduce_start or send_start: its data is
  // borrowed until wait() returns. Destroying it unwaited waits, and drops any
  // error (the communicator keeps it: its next call throws).
  class Pending {
   public:
    Pending() = default;
    Pending(Pending&& other) noexcept;
    Pending& operator=(Pending&& other) noexcept;
    ~Pending();
    // Blocks until the operation is done, or throws Error as the blocking
    // call would.
    void wait();
    bool running() const { return comm_ != nullptr; }

   private:
    friend class Communicator;
    Communicator* comm_ = nullptr;  // null once waited for
    std::function<void()> finish_;  // the backend's wait; empty for no data
    const char* op_ = "";
    int peer_ = -1;                 // send only
    int tag_ = -1;
    int64_t collective_ = 0;        // allreduce only
    int64_t bytes_ = 0;
  };
  // Starts summing `data` [in/out] across ranks and returns at once, so that
  // computing can go on meanwhile: gloo runs the allreduce on its own thread;
  // mpi moves it on whenever this rank calls into MPI (see progress()).
  [[nodiscard]] Pending allreduce_start(std::span<float> data);
  // Lets a backend without a thread of its own (mpi) move started allreduces
  // along; cheap, and a no-op for gloo. Call it now and then while computing.
  void progress();

  // Every rank sends send_counts[p] elements to rank p, taken from `send` in
  // rank order, and receives recv_counts[p] elements from rank p into `recv`
  // [out], in rank order. Counts have size() entries; both sides must agree
  // on every count (alltoallv_lists finds them for you).
  template <typename T>
  void alltoallv(std::span<const T> send, std::span<const int64_t> send_counts, std::span<T> recv,
                 std::span<const int64_t> recv_counts) {
    alltoallv_bytes(send.data(), send.size(), send_counts, recv.data(), recv.size(), recv_counts,
                    data_type_of<T>());
  }
  // Sends lists[p] to rank p and returns, at index p, the list rank p sent
  // here; lists has size() entries. Two collectives: an alltoallv of the
  // counts, then one of the elements.
  template <typename T>
  std::vector<std::vector<T>> alltoallv_lists(const std::vector<std::vector<T>>& lists);
  // Every rank's `values`, on every rank, in rank order.
  std::vector<std::vector<int64_t>> all_gather(const std::vector<int64_t>& values) {
    return alltoallv_lists(std::vector<std::vector<int64_t>>(size(), values));
  }
  // The elementwise sums of every rank's `values` (exact, unlike a float allreduce).
  std::vector<int64_t> sum_over_ranks(std::vector<int64_t> values);

  // Copies `data` [in/out] of rank `root` to every other rank.
  template <typename T>
  void broadcast(std::span<T> data, int root) {
    broadcast_bytes(data.data(), data.size(), data_type_of<T>(), root);
  }
  // As above on a contiguous CPU tensor of float32, int32, int64 or uint8.
  void broadcast(torch::Tensor& tensor, int root);

  // Point to point: a recv matches the send from `peer` with the same `tag`
  // (>= 0) and must ask for exactly the bytes sent.
  void send(std::span<const std::byte> data, int peer, int tag);
  void recv(std::span<std::byte> data, int peer, int tag);
  // Starts a send and returns at once; the message leaves while this rank
  // goes on (mpi: as progress() or other MPI calls move it).
  [[nodiscard]] Pending send_start(std::span<const std::byte> data, int peer, int tag);
  // Tensors travel as their raw bytes: the receiver preallocates a contiguous
  // CPU tensor of the sender's dtype and shape.
  void send(const torch::Tensor& tensor, int peer, int tag);
  void recv(torch::Tensor& tensor, int peer, int tag);

  // Returns once every rank has entered the barrier.
  void barrier();

  // A second communicator over the same ranks whose operations run beside
  // this one's, used from another thread: a prefetching loader's transfers
  // then never queue behind the gradient allreduce (gloo: a second process
  // group on the same store and device; mpi: a duplicate of MPI_COMM_WORLD,
  // which needs MPI_THREAD_MULTIPLE). A collective. This communicator owns
  // the channel, and its bytes count in this one's totals.
  Communicator& open_channel();

  // Counters, channels included: read them while no other thread uses one.
  int64_t bytes_sent(int peer) const;
  int64_t bytes_received(int peer) const;
  int64_t bytes_sent() const;  // summed over peers
  int64_t bytes_received() const;
  // Seconds this communicator (not its channels) spent inside operations;
  // a started allreduce counts its wait.
  double busy_seconds() const;

 protected:
  Communicator(int rank, int size, std::chrono::milliseconds timeout);

  // What this rank is doing, readable from a backend's monitor thread.
  struct Activity {
    int64_t num_collectives;  // collectives entered so far, the current one included
    const char* op;           // the running operation ("allreduce", ...) or "idle"
  };
  Activity activity() const;
  // "rank 1: allreduce #7" or "rank 1: recv from rank 2 (tag 5, 64 bytes)",
  // for the backends' error messages.
  std::string op_label() const;
  double op_seconds() const;  // since the running operation started
  bool failed() const { return !failure_.empty(); }

  // The backends. Each blocks until done or throws Error (after at most about
  // timeout()). Arguments are already checked; sizes are in elements.
  // do_allreduce_sum_start starts the sum and returns the function that waits
  // for it (blocking, or throwing Error, as the others do).
  virtual std::function<void()> do_allreduce_sum_start(std::span<float> data) = 0;
  virtual void do_progress() {}
  virtual void do_alltoallv(const void* send, std::span<const int64_t> send_counts, void* recv,
                            std::span<const int64_t> recv_counts, DataType type) = 0;
  virtual void do_broadcast(void* data, int64_t count, DataType type, int root) = 0;
  virtual std::function<void()> do_send_start(std::span<const std::byte> data, int peer,
                                              int tag) = 0;
  virtual void do_recv(std::span<std::byte> data, int peer, int tag) = 0;
  virtual void do_barrier() = 0;
  // A new communicator over the same ranks, apart from this one's traffic;
  // `index` numbers the channels from 1.
  virtual std::unique_ptr<Communicator> do_open_channel(int index) = 0;
  // Destroys the channels: a backend calls it first in its destructor, since
  // they use what it tears down.
  void close_channels() { channels_.clear(); }

 private:
  void alltoallv_bytes(const void* send, size_t send_size, std::span<const int64_t> send_counts,
                       void* recv, size_t recv_size, std::span<const int64_t> recv_counts,
                       DataType type);
  void broadcast_bytes(void* data, size_t count, DataType type, int root);
  // Runs one operation: refuses it after an earlier failure, records what
  // runs for op_label(), and marks the communicator failed if `body` throws.
  // A collective (peer < 0) is numbered as the next one unless `collective`
  // names the started one it finishes.
  template <typename Body>
  void run(const char* op, int peer, int tag, int64_t bytes, Body&& body,
           int64_t collective = 0);
  void check_peer(int peer, const char* what) const;

  const int rank_;
  const int size_;
  const std::chrono::milliseconds timeout_;
  std::vector<int64_t> bytes_sent_;  // per peer
  std::vector<int64_t> bytes_received_;

  // The running operation. The two atomics are read by monitor threads.
  std::atomic<int64_t> num_collectives_{0};
  std::atomic<const char*> op_{"idle"};
  int64_t op_collective_ = 0;  // collectives only
  int op_peer_ = -1;           // point to point only
  int op_tag_ = -1;
  int64_t op_bytes_ = 0;
  std::chrono::steady_clock::time_point op_start_;
  std::string failure_;  // the Error of the call that failed, "" while usable
  double busy_seconds_ = 0;
  std::vector<std::unique_ptr<Communicator>> channels_;
};

// Creates the communicator of `options.backend`: for gloo it joins the
// rendezvous at master_addr:master_port (rank 0 hosts it) and returns once all
// `size` ranks have joined, or throws Error after `timeout`; for mpi it
// initialises MPI (a process started by mpirun, or alone a group of one).
std::unique_ptr<Communicator> make_communicator(const CommOptions& options);

}  // namespace edgegnn::comm
