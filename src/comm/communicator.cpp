#include "comm/communicator.h"

#include <algorithm>
#include <numeric>
#include <string_view>
#include <utility>

#include "comm/gloo_communicator.h"
#include "comm/mpi_communicator.h"
#include "core/error.h"

namespace edgegnn::comm {

int64_t data_type_size(DataType type) {
  switch (type) {
    case DataType::kFloat32:
      return 4;
    case DataType::kInt32:
      return 4;
    case DataType::kInt64:
      return 8;
    case DataType::kByte:
      return 1;
  }
  fail("unknown DataType {}", static_cast<int>(type));
}

Communicator::Communicator(int rank, int size, std::chrono::milliseconds timeout)
    : rank_(rank), size_(size), timeout_(timeout), bytes_sent_(size, 0), bytes_received_(size, 0) {}

template <typename Body>
void Communicator::run(const char* op, int peer, int tag, int64_t bytes, Body&& body,
                       int64_t collective) {
  check(failure_.empty(), "rank {}: {}: communicator unusable after an earlier failure: {}", rank_,
        op, failure_);
  if (peer < 0) op_collective_ = collective > 0 ? collective : num_collectives_.fetch_add(1) + 1;
  op_peer_ = peer;
  op_tag_ = tag;
  op_bytes_ = bytes;
  op_start_ = std::chrono::steady_clock::now();
  op_.store(op);
  try {
    body();
  } catch (const std::exception& e) {
    failure_ = e.what();
    op_.store("failed");
    throw;
  }
  busy_seconds_ += op_seconds();
  op_.store("idle");
}

Communicator::Activity Communicator::activity() const {
  return {num_collectives_.load(), op_.load()};
}

std::string Communicator::op_label() const {
  std::string_view op = op_.load();
  if (op_peer_ < 0) return fmt::format("rank {}: {} #{}", rank_, op, op_collective_);
  return fmt::format("rank {}: {} {} rank {} (tag {}, {} bytes)", rank_, op,
                     op == "send" ? "to" : "from", op_peer_, op_tag_, op_bytes_);
}

double Communicator::op_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - op_start_).count();
}

void Communicator::check_peer(int peer, const char* what) const {
  check(peer >= 0 && peer < size_, "rank {}: {}: rank {} is outside the group of {}", rank_, what,
        peer, size_);
}

void Communicator::allreduce(std::span<float> data, ReduceOp op) {
  allreduce_start(data).wait();
  // Neither Gloo nor MPI averages floats: sum, then divide (not multiply by
  // 1/N, which would round differently from the exact quotient).
  if (op == ReduceOp::kAverage) {
    for (float& x : data) x /= static_cast<float>(size_);
  }
}

Communicator::Pending Communicator::allreduce_start(std::span<float> data) {
  Pending pending;
  pending.bytes_ = static_cast<int64_t>(data.size_bytes());
  run("allreduce", /*peer=*/-1, /*tag=*/-1, pending.bytes_, [&] {
    // Every rank holds the same size, so all of them skip an empty call alike.
    if (!data.empty()) pending.finish_ = do_allreduce_sum_start(data);
  });
  pending.comm_ = this;
  pending.op_ = "allreduce";
  pending.collective_ = op_collective_;
  const int64_t ring_bytes = 2 * (size_ - 1) * pending.bytes_ / size_;
  if (size_ > 1) {
    bytes_sent_[(rank_ + 1) % size_] += ring_bytes;
    bytes_received_[(rank_ + size_ - 1) % size_] += ring_bytes;
  }
  return pending;
}

void Communicator::Pending::wait() {
  check(comm_ != nullptr, "allreduce: wait() on an allreduce that is not running");
  Communicator* comm = std::exchange(comm_, nullptr);
  comm->run(
      op_, peer_, tag_, bytes_,
      [&] {
        if (finish_) finish_();
      },
      collective_);
}

Communicator::Pending::Pending(Pending&& other) noexcept
    : comm_(std::exchange(other.comm_, nullptr)),
      finish_(std::move(other.finish_)),
      op_(other.op_),
      peer_(other.peer_),
      tag_(other.tag_),
      collective_(other.collective_),
      bytes_(other.bytes_) {}

Communicator::Pending& Communicator::Pending::operator=(
    Pending&& other) noexcept {
  if (this != &other) {
    Pending dropped(std::move(*this));
    comm_ = std::exchange(other.comm_, nullptr);
    finish_ = std::move(other.finish_);
    op_ = other.op_;
    peer_ = other.peer_;
    tag_ = other.tag_;
    collective_ = other.collective_;
    bytes_ = other.bytes_;
  }
  return *this;
}

Communicator::Pending::~Pending() {
  // The backend may still be writing into the borrowed data.
  if (comm_ == nullptr) return;
  try {
    wait();
  } catch (const std::exception&) {
    // The communicator keeps the failure; its next call reports it.
  }
}

void Communicator::progress() {
  if (failure_.empty()) do_progress();
}

void Communicator::allreduce(torch::Tensor& tensor, ReduceOp op) {
  check(tensor.defined() && tensor.device().is_cpu() && tensor.scalar_type() == torch::kFloat32 &&
            tensor.is_contiguous(),
        "rank {}: allreduce: needs a contiguous float32 CPU tensor", rank_);
  allreduce(std::span<float>(tensor.data_ptr<float>(), tensor.numel()), op);
}

void Communicator::alltoallv_bytes(const void* send, size_t send_size,
                                   std::span<const int64_t> send_counts, void* recv,
                                   size_t recv_size, std::span<const int64_t> recv_counts,
                                   DataType type) {
  const size_t n = size_;
  check(send_counts.size() == n && recv_counts.size() == n,
        "rank {}: alltoallv: {} send and {} recv counts, expected one per rank ({})", rank_,
        send_counts.size(), recv_counts.size(), n);
  for (size_t p = 0; p < n; ++p) {
    check(send_counts[p] >= 0 && recv_counts[p] >= 0,
          "rank {}: alltoallv: negative count for rank {}", rank_, p);
  }
  const int64_t send_total = std::accumulate(send_counts.begin(), send_counts.end(), int64_t{0});
  const int64_t recv_total = std::accumulate(recv_counts.begin(), recv_counts.end(), int64_t{0});
  check(send_total == static_cast<int64_t>(send_size),
        "rank {}: alltoallv: send counts add up to {} elements but the send buffer holds {}", rank_,
        send_total, send_size);
  check(recv_total == static_cast<int64_t>(recv_size),
        "rank {}: alltoallv: recv counts add up to {} elements but the recv buffer holds {}", rank_,
        recv_total, recv_size);
  check(send_counts[rank_] == recv_counts[rank_],
        "rank {}: alltoallv: sends itself {} elements but expects {}", rank_, send_counts[rank_],
        recv_counts[rank_]);

  const int64_t element = data_type_size(type);
  run("alltoallv", /*peer=*/-1, /*tag=*/-1, (send_total + recv_total) * element,
      [&] { do_alltoallv(send, send_counts, recv, recv_counts, type); });
  for (size_t p = 0; p < n; ++p) {
    if (static_cast<int>(p) == rank_) continue;
    bytes_sent_[p] += send_counts[p] * element;
    bytes_received_[p] += recv_counts[p] * element;
  }
}

template <typename T>
std::vector<std::vector<T>> Communicator::alltoallv_lists(
    const std::vector<std::vector<T>>& lists) {
  check(lists.size() == static_cast<size_t>(size_),
        "rank {}: alltoallv_lists: {} lists, expected one per rank ({})", rank_, lists.size(),
        size_);
  std::vector<int64_t> send_counts(size_), recv_counts(size_), ones(size_, 1);
  std::vector<T> send;
  for (int p = 0; p < size_; ++p) {
    send_counts[p] = static_cast<int64_t>(lists[p].size());
    send.insert(send.end(), lists[p].begin(), lists[p].end());
  }
  alltoallv<int64_t>(send_counts, ones, recv_counts, ones);

  std::vector<T> recv(std::accumulate(recv_counts.begin(), recv_counts.end(), int64_t{0}));
  alltoallv<T>(send, send_counts, recv, recv_counts);
  std::vector<std::vector<T>> received(size_);
  auto next = recv.begin();
  for (int p = 0; p < size_; ++p) {
    received[p].assign(next, next + recv_counts[p]);
    next += recv_counts[p];
  }
  return received;
}

template std::vector<std::vector<float>> Communicator::alltoallv_lists(
    const std::vector<std::vector<float>>&);
template std::vector<std::vector<int32_t>> Communicator::alltoallv_lists(
    const std::vector<std::vector<int32_t>>&);
template std::vector<std::vector<int64_t>> Communicator::alltoallv_lists(
    const std::vector<std::vector<int64_t>>&);

std::vector<int64_t> Communicator::sum_over_ranks(std::vector<int64_t> values) {
  const std::vector<std::vector<int64_t>> all = all_gather(values);
  std::fill(values.begin(), values.end(), 0);
  for (const auto& theirs : all)
    for (size_t i = 0; i < values.size(); ++i) values[i] += theirs.at(i);
  return values;
}

void Communicator::broadcast_bytes(void* data, size_t count, DataType type, int root) {
  check_peer(root, "broadcast");
  const int64_t bytes = static_cast<int64_t>(count) * data_type_size(type);
  run("broadcast", /*peer=*/-1, /*tag=*/-1, bytes, [&] {
    if (count > 0) do_broadcast(data, static_cast<int64_t>(count), type, root);
  });
  if (rank_ == root) {
    for (int p = 0; p < size_; ++p) {
      if (p != root) bytes_sent_[p] += bytes;
    }
  } else {
    bytes_received_[root] += bytes;
  }
}

void Communicator::broadcast(torch::Tensor& tensor, int root) {
  check(tensor.defined() && tensor.device().is_cpu() && tensor.is_contiguous(),
        "rank {}: broadcast: needs a contiguous CPU tensor", rank_);
  DataType type;
  switch (tensor.scalar_type()) {
    case torch::kFloat32:
      type = DataType::kFloat32;
      break;
    case torch::kInt32:
      type = DataType::kInt32;
      break;
    case torch::kInt64:
      type = DataType::kInt64;
      break;
    case torch::kUInt8:
      type = DataType::kByte;
      break;
    default:
      fail("rank {}: broadcast: unsupported dtype {}", rank_, c10::toString(tensor.scalar_type()));
  }
  broadcast_bytes(tensor.data_ptr(), tensor.numel(), type, root);
}

void Communicator::send(std::span<const std::byte> data, int peer, int tag) {
  send_start(data, peer, tag).wait();
}

Communicator::Pending Communicator::send_start(std::span<const std::byte> data, int peer,
                                               int tag) {
  check_peer(peer, "send");
  check(peer != rank_ && tag >= 0,
        "rank {}: send: needs another rank and a tag >= 0 (got rank {}, tag {})", rank_, peer, tag);
  Pending pending;
  pending.bytes_ = static_cast<int64_t>(data.size());
  run("send", peer, tag, pending.bytes_, [&] { pending.finish_ = do_send_start(data, peer, tag); });
  pending.comm_ = this;
  pending.op_ = "send";
  pending.peer_ = peer;
  pending.tag_ = tag;
  bytes_sent_[peer] += pending.bytes_;
  return pending;
}

void Communicator::recv(std::span<std::byte> data, int peer, int tag) {
  check_peer(peer, "recv");
  check(peer != rank_ && tag >= 0,
        "rank {}: recv: needs another rank and a tag >= 0 (got rank {}, tag {})", rank_, peer, tag);
  const int64_t bytes = static_cast<int64_t>(data.size());
  run("recv", peer, tag, bytes, [&] { do_recv(data, peer, tag); });
  bytes_received_[peer] += bytes;
}

void Communicator::send(const torch::Tensor& tensor, int peer, int tag) {
  check(tensor.defined() && tensor.device().is_cpu() && tensor.is_contiguous(),
        "rank {}: send: needs a contiguous CPU tensor", rank_);
  send(
      std::span<const std::byte>(static_cast<const std::byte*>(tensor.data_ptr()), tensor.nbytes()),
      peer, tag);
}

void Communicator::recv(torch::Tensor& tensor, int peer, int tag) {
  check(tensor.defined() && tensor.device().is_cpu() && tensor.is_contiguous(),
        "rank {}: recv: needs a contiguous CPU tensor", rank_);
  recv(std::span<std::byte>(static_cast<std::byte*>(tensor.data_ptr()), tensor.nbytes()), peer,
       tag);
}

void Communicator::barrier() {
  run("barrier", /*peer=*/-1, /*tag=*/-1, /*bytes=*/0, [&] { do_barrier(); });
}

Communicator& Communicator::open_channel() {
  const int index = static_cast<int>(channels_.size()) + 1;
  run("open_channel", /*peer=*/-1, /*tag=*/-1, /*bytes=*/0,
      [&] { channels_.push_back(do_open_channel(index)); });
  return *channels_.back();
}

int64_t Communicator::bytes_sent(int peer) const {
  check_peer(peer, "bytes_sent");
  int64_t bytes = bytes_sent_[peer];
  for (const auto& channel : channels_) bytes += channel->bytes_sent(peer);
  return bytes;
}

int64_t Communicator::bytes_received(int peer) const {
  check_peer(peer, "bytes_received");
  int64_t bytes = bytes_received_[peer];
  for (const auto& channel : channels_) bytes += channel->bytes_received(peer);
  return bytes;
}

int64_t Communicator::bytes_sent() const {
  int64_t bytes = 0;
  for (int p = 0; p < size_; ++p) bytes += bytes_sent(p);
  return bytes;
}

int64_t Communicator::bytes_received() const {
  int64_t bytes = 0;
  for (int p = 0; p < size_; ++p) bytes += bytes_received(p);
  return bytes;
}

double Communicator::busy_seconds() const { return busy_seconds_; }

std::unique_ptr<Communicator> make_communicator(const CommOptions& options) {
  check(options.timeout.count() > 0, "communicator timeout must be positive, got {} ms",
        options.timeout.count());
  if (options.backend == "gloo") return make_gloo_communicator(options);
  if (options.backend == "mpi") return make_mpi_communicator(options);
  fail("unknown communicator backend '{}' (expected gloo or mpi)", options.backend);
}

}  // namespace edgegnn::comm
