#include "comm/gloo_communicator.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <numeric>
#include <string_view>
#include <thread>

// Declares nothing unless USE_C10D_GLOO is defined, which Torch's CMake
// targets do (Debian's libtorch_cpu is built with Gloo).
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "comm/gloo_heartbeat.h"
#include "core/error.h"

namespace edgegnn::comm {
namespace {

// c10::Error's what() carries a C++ backtrace; Gloo's messages start with
// the source line that raised them ("[../pair.cc:589] Read error ...").
std::string message_of(const std::exception& e) {
  std::string_view message = e.what();
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) {
    message = c10_error->what_without_backtrace();
  }
  if (message.starts_with('[')) {
    const size_t end = message.find("] ");
    if (end != std::string_view::npos) message.remove_prefix(end + 2);
  }
  return std::string(message);
}

at::ScalarType torch_type(DataType type) {
  switch (type) {
    case DataType::kFloat32:
      return at::kFloat;
    case DataType::kInt32:
      return at::kInt;
    case DataType::kInt64:
      return at::kLong;
    case DataType::kByte:
      return at::kByte;
  }
  fail("unknown DataType {}", static_cast<int>(type));
}

// Torch wants a mutable pointer; Gloo only reads send buffers.
at::Tensor wrap(const void* data, int64_t count, DataType type) {
  return torch::from_blob(const_cast<void*>(data), {count}, torch_type(type));
}

class GlooCommunicator final : public Communicator {
 public:
  explicit GlooCommunicator(const CommOptions& options);
  // Channel `index` of `parent`: a process group of its own on the parent's
  // store (under a prefix) and device, without a heartbeat.
  GlooCommunicator(const GlooCommunicator& parent, int index);
  ~GlooCommunicator() override;
  const char* backend() const override { return "gloo"; }

 private:
  std::function<void()> do_allreduce_sum_start(std::span<float> data) override;
  void do_alltoallv(const void* send, std::span<const int64_t> send_counts, void* recv,
                    std::span<const int64_t> recv_counts, DataType type) override;
  void do_broadcast(void* data, int64_t count, DataType type, int root) override;
  std::function<void()> do_send_start(std::span<const std::byte> data, int peer,
                                      int tag) override;
  void do_recv(std::span<std::byte> data, int peer, int tag) override;
  void do_barrier() override;
  std::unique_ptr<Communicator> do_open_channel(int index) override;

  // Starts the work `start` returns and waits for it. On failure throws Error
  // naming the rank that left us waiting: `peer` for point to point, for a
  // collective whichever rank the heartbeat finds silent or late.
  template <typename Start>
  void finish(Start&& start, int peer = -1);
  // Returns once every rank has reached the store at `where`, or throws Error
  // naming the ranks that did not within `timeout`.
  void join(const std::string& where, std::chrono::milliseconds timeout);

  c10::intrusive_ptr<c10d::TCPStore> store_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo::Options> group_options_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
  std::unique_ptr<GlooHeartbeat> heartbeat_;  // absent for a group of one
  std::chrono::milliseconds beat_period_{0};
};

GlooCommunicator::GlooCommunicator(const CommOptions& options)
    : Communicator(options.rank, options.size, options.timeout) {
  const std::string where = fmt::format("{}:{}", options.master_addr, options.master_port);
  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<uint16_t>(options.master_port);
  store_options.isServer = options.rank == 0;
  store_options.waitWorkers = false;  // join() waits, and names who is absent
  store_options.timeout = options.timeout;
  const auto join_timeout =
      options.join_timeout.count() > 0 ? options.join_timeout : options.timeout;
  c10d::TCPStoreOptions joining = store_options;
  joining.timeout = join_timeout;
  try {
    store_ = c10::make_intrusive<c10d::TCPStore>(options.master_addr, joining);
    join(where, join_timeout);
    store_->setTimeout(options.timeout);
    group_options_ = c10d::ProcessGroupGloo::Options::create(options.timeout);
    group_options_->devices.push_back(
        options.interface.empty()
            ? c10d::ProcessGroupGloo::createDeviceForHostname(
                  local_address_towards(options.master_addr, options.master_port))
            : c10d::ProcessGroupGloo::createDeviceForInterface(options.interface));
    group_options_->threads = 1;  // one call at a time, by the contract
    group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store_, options.rank, options.size,
                                                         group_options_);
    if (options.size > 1) {
      // Its own connection, so that beats never wait behind the group's use.
      c10d::TCPStoreOptions client_options = store_options;
      client_options.isServer = false;
      const auto period = std::clamp(options.timeout / 6, std::chrono::milliseconds(100),
                                     std::chrono::milliseconds(1000));
      beat_period_ = period;
      heartbeat_ = std::make_unique<GlooHeartbeat>(
          c10::make_intrusive<c10d::TCPStore>(options.master_addr, client_options), options.rank,
          options.size, period, [this] {
            const Activity now = activity();
            return GlooHeartbeat::Status{now.num_collectives, now.op};
          });
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    fail("rank {}: gloo rendezvous at {} ({} ranks, timeout {:.1f} s) failed: {}", options.rank,
         where, options.size, std::chrono::duration<double>(join_timeout).count(), message_of(e));
  }
}

GlooCommunicator::GlooCommunicator(const GlooCommunicator& parent, int index)
    : Communicator(parent.rank(), parent.size(), parent.timeout()),
      store_(parent.store_),
      group_options_(parent.group_options_) {
  try {
    group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(
        c10::make_intrusive<c10d::PrefixStore>(fmt::format("edgegnn/channel/{}", index), store_),
        rank(), size(), group_options_);
  } catch (const std::exception& e) {
    fail("rank {}: gloo: cannot open channel {}: {}", rank(), index, message_of(e));
  }
}

std::unique_ptr<Communicator> GlooCommunicator::do_open_channel(int index) {
  return std::make_unique<GlooCommunicator>(*this, index);
}

GlooCommunicator::~GlooCommunicator() {
  close_channels();
  // After a failure the others may still read heartbeats from the store this
  // rank hosts, to name the rank that failed (they wait at most four beats):
  // taking it down at once would make them blame rank 0 instead.
  if (failed() && rank() == 0 && heartbeat_) std::this_thread::sleep_for(5 * beat_period_);
}

void GlooCommunicator::join(const std::string& where, std::chrono::milliseconds timeout) {
  // Every rank leaves a mark, so that the ranks that never come can be named:
  // c10d's own wait for workers says only "Socket Timeout".
  std::vector<std::string> keys;
  for (int r = 0; r < size(); ++r) keys.push_back(fmt::format("edgegnn/joined/{}", r));
  store_->set(keys[rank()], std::vector<uint8_t>{1});
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string absent = "?";  // the ranks missing at the last look
  while (true) {
    try {
      std::string missing;
      for (int r = 0; r < size(); ++r) {
        if (!store_->check({keys[r]}))
          missing += fmt::format("{}{}", missing.empty() ? "" : ", ", r);
      }
      absent = missing;
    } catch (const std::exception& e) {
      // Rank 0 gave up waiting first and took its store down with it.
      fail(
          "rank {}: gloo rendezvous at {}: rank {} did not join before the store on rank 0 went "
          "away ({})",
          rank(), where, absent, message_of(e));
    }
    if (absent.empty()) return;
    check(std::chrono::steady_clock::now() < deadline,
          "rank {}: gloo rendezvous at {}: rank {} did not join within {:.1f} s", rank(), where,
          absent, std::chrono::duration<double>(timeout).count());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

template <typename Start>
void GlooCommunicator::finish(Start&& start, int peer) {
  std::string cause;
  try {
    start()->wait();
    return;
  } catch (const std::exception& e) {
    cause = message_of(e);
  }
  const double seconds = op_seconds();
  const char* what = cause.find("Timed out") != std::string::npos ? "timed out" : "failed";
  std::string missing;
  if (heartbeat_ && peer >= 0) {
    missing = fmt::format("rank {} {}", peer, heartbeat_->describe_peer(peer));
  } else if (heartbeat_) {
    missing = heartbeat_->describe_missing(activity().num_collectives);
  }
  // A channel has no heartbeat and cannot tell who is missing.
  const std::string who = !missing.empty() ? " waiting for " + missing
                          : heartbeat_     ? " with every peer alive and in it"
                                           : "";
  fail("{} {} after {:.1f} s{}; gloo: {}", op_label(), what, seconds, who, cause);
}

std::function<void()> GlooCommunicator::do_allreduce_sum_start(std::span<float> data) {
  std::vector<at::Tensor> tensors{wrap(data.data(), data.size(), DataType::kFloat32)};
  // Gloo's worker thread runs it from here on.
  c10::intrusive_ptr<c10d::Work> work = group_->allreduce(tensors);
  return [this, work] { finish([&] { return work; }); };
}

void GlooCommunicator::do_alltoallv(const void* send, std::span<const int64_t> send_counts,
                                    void* recv, std::span<const int64_t> recv_counts,
                                    DataType type) {
  std::vector<int64_t> in_counts(send_counts.begin(), send_counts.end());
  std::vector<int64_t> out_counts(recv_counts.begin(), recv_counts.end());
  at::Tensor in = wrap(send, std::accumulate(in_counts.begin(), in_counts.end(), int64_t{0}), type);
  at::Tensor out =
      wrap(recv, std::accumulate(out_counts.begin(), out_counts.end(), int64_t{0}), type);
  finish([&] { return group_->alltoall_base(out, in, out_counts, in_counts); });
}

void GlooCommunicator::do_broadcast(void* data, int64_t count, DataType type, int root) {
  std::vector<at::Tensor> tensors{wrap(data, count, type)};
  c10d::BroadcastOptions options;
  options.rootRank = root;
  finish([&] { return group_->broadcast(tensors, options); });
}

std::function<void()> GlooCommunicator::do_send_start(std::span<const std::byte> data, int peer,
                                                      int tag) {
  std::vector<at::Tensor> tensors{wrap(data.data(), data.size(), DataType::kByte)};
  c10::intrusive_ptr<c10d::Work> work = group_->send(tensors, peer, tag);
  return [this, work, peer] { finish([&] { return work; }, peer); };
}

void GlooCommunicator::do_recv(std::span<std::byte> data, int peer, int tag) {
  std::vector<at::Tensor> tensors{wrap(data.data(), data.size(), DataType::kByte)};
  finish([&] { return group_->recv(tensors, peer, tag); }, peer);
}

void GlooCommunicator::do_barrier() {
  finish([&] { return group_->barrier(); });
}

}  // namespace

std::string local_address_towards(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  check(rc == 0, "cannot resolve master address '{}': {}", host, gai_strerror(rc));
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in local{};
  socklen_t length = sizeof local;
  const bool ok = fd >= 0 && connect(fd, found->ai_addr, found->ai_addrlen) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) == 0;
  const int error = errno;
  freeaddrinfo(found);
  if (fd >= 0) close(fd);
  check(ok, "no route from this host to master address '{}': {}", host, strerror(error));
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &local.sin_addr, text, sizeof text);
  return text;
}


std::unique_ptr<Communicator> make_gloo_communicator(const CommOptions& options) {
  check(options.size >= 1 && options.rank >= 0 && options.rank < options.size,
        "gloo: rank {} is outside a group of {}", options.rank, options.size);
  check(options.master_port > 0 && options.master_port < 65536,
        "gloo: master port {} is not a TCP port", options.master_port);
  return std::make_unique<GlooCommunicator>(options);
}

}  // namespace edgegnn::comm
