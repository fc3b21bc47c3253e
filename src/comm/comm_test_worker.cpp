// One rank of a comm_test group: runs a scenario against a real Communicator
// and checks every value it receives against the value it must be.
//
//   comm_test_worker --scenario S --backend gloo|mpi --timeout-ms T
//                    [--join-timeout-ms J] [--rank R --size N --port P] [--victim V]
//
// Scenarios: collectives, point_to_point (3 ranks), die (rank V kills itself
// between two allreduces), stop (rank V stops itself, SIGSTOP, before an
// alltoallv_lists), stall (rank V, alive, sleeps instead of calling that
// alltoallv_lists), join (only creates the communicator), channel (a
// channel's alltoallvs on a second thread beside allreduces on the first).
// Prints "rank R: ok" and exits 0 when every value matched; prints
// "rank R: MISMATCH ..." and exits 1 otherwise; prints
// "error after X s: <Error>" and exits 2 when a call throws.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <csignal>
#include <exception>
#include <map>
#include <numeric>
#include <thread>

#include "comm/communicator.h"
#include "comm/mailbox.h"
#include "core/error.h"

namespace edgegnn::comm {
namespace {

using Clock = std::chrono::steady_clock;

class Checker {
 public:
  explicit Checker(int rank) : rank_(rank) {}
  template <typename T>
  void equal(const std::string& what, const T& got, const T& expected) {
    if (got == expected) return;
    fmt::print("rank {}: MISMATCH {}: got {} expected {}\n", rank_, what, got, expected);
    ok_ = false;
  }
  int finish() {
    if (ok_) fmt::print("rank {}: ok\n", rank_);
    return ok_ ? 0 : 1;
  }

 private:
  int rank_;
  bool ok_ = true;
};

template <typename T>
std::vector<T> to_vector(const torch::Tensor& tensor) {
  return std::vector<T>(tensor.data_ptr<T>(), tensor.data_ptr<T>() + tensor.numel());
}

// Bytes the documented model charges per peer, accumulated as the scenario runs.
struct Bytes {
  std::vector<int64_t> sent, received;
  explicit Bytes(int size) : sent(size, 0), received(size, 0) {}
};

void collectives(Communicator& comm, Checker& checker) {
  const int r = comm.rank(), n = comm.size();
  Bytes expected(n);
  auto ring = [&](int64_t bytes) {
    if (n == 1) return;
    expected.sent[(r + 1) % n] += 2 * (n - 1) * bytes / n;
    expected.received[(r + n - 1) % n] += 2 * (n - 1) * bytes / n;
  };

  // allreduce, sum over a span: 100 r + i summed over ranks.
  std::vector<float> values(5);
  for (int i = 0; i < 5; ++i) values[i] = 100.0f * r + i;
  comm.allreduce(values);
  std::vector<float> sums(5);
  for (int i = 0; i < 5; ++i) sums[i] = 100.0f * n * (n - 1) / 2 + static_cast<float>(n) * i;
  checker.equal("allreduce sum", values, sums);
  ring(5 * 4);

  // allreduce, average over a tensor: mean of (i + r) is i + (n - 1) / 2.
  torch::Tensor tensor = torch::arange(6, torch::kFloat32) + r;
  comm.allreduce(tensor, ReduceOp::kAverage);
  checker.equal("allreduce average", to_vector<float>(tensor),
                to_vector<float>(torch::arange(6, torch::kFloat32) + (n - 1) / 2.0f));
  ring(6 * 4);

  // Two allreduces started back to back and waited for after other work: a
  // large one (many Gloo/MPI chunks) and a small one, waited for out of order.
  std::vector<float> large(1 << 20, static_cast<float>(r + 1)), small(3, 2.0f * r);
  Communicator::Pending first = comm.allreduce_start(large);
  Communicator::Pending second = comm.allreduce_start(small);
  comm.progress();
  second.wait();
  first.wait();
  checker.equal("started allreduce, large", large,
                std::vector<float>(1 << 20, static_cast<float>(n * (n + 1) / 2)));
  checker.equal("started allreduce, small", small,
                std::vector<float>(3, static_cast<float>(n * (n - 1))));
  ring((1 << 20) * 4);
  ring(3 * 4);

  // alltoallv_lists: rank q sends rank p (q + 2p) % 4 ids 1000 q + 10 p + k;
  // several lists are empty.
  auto ids = [](int from, int to) {
    std::vector<int32_t> list;
    for (int k = 0; k < (from + 2 * to) % 4; ++k) list.push_back(1000 * from + 10 * to + k);
    return list;
  };
  std::vector<std::vector<int32_t>> outgoing(n), incoming(n);
  for (int p = 0; p < n; ++p) {
    outgoing[p] = ids(r, p);
    incoming[p] = ids(p, r);
  }
  checker.equal("alltoallv_lists int32", comm.alltoallv_lists(outgoing), incoming);
  for (int p = 0; p < n; ++p) {
    if (p == r) continue;
    expected.sent[p] += 8 + 4 * static_cast<int64_t>(outgoing[p].size());
    expected.received[p] += 8 + 4 * static_cast<int64_t>(incoming[p].size());
  }

  // alltoallv_lists of int64 where rank 0 sends nothing at all.
  auto big = [](int from, int to) {
    return from == 0 ? std::vector<int64_t>{}
                     : std::vector<int64_t>{(int64_t{1} << 40) + 8 * from + to};
  };
  std::vector<std::vector<int64_t>> big_out(n), big_in(n);
  for (int p = 0; p < n; ++p) {
    big_out[p] = big(r, p);
    big_in[p] = big(p, r);
  }
  checker.equal("alltoallv_lists int64", comm.alltoallv_lists(big_out), big_in);
  for (int p = 0; p < n; ++p) {
    if (p == r) continue;
    expected.sent[p] += 8 + 8 * static_cast<int64_t>(big_out[p].size());
    expected.received[p] += 8 + 8 * static_cast<int64_t>(big_in[p].size());
  }

  // alltoallv with explicit counts: one float r + p / 8 to each rank p.
  std::vector<float> send(n), recv(n), got_floats(n);
  std::vector<int64_t> ones(n, 1);
  for (int p = 0; p < n; ++p) {
    send[p] = r + p / 8.0f;
    got_floats[p] = p + r / 8.0f;
  }
  comm.alltoallv<float>(send, ones, recv, ones);
  checker.equal("alltoallv float", recv, got_floats);
  for (int p = 0; p < n; ++p) {
    if (p == r) continue;
    expected.sent[p] += 4;
    expected.received[p] += 4;
  }

  // broadcast of a span from rank 1 and of an int64 tensor from the last rank.
  const int root = 1 % n, last = n - 1;
  std::vector<float> message = {1.5f, -2.0f, 3e6f};
  std::vector<float> buffer = r == root ? message : std::vector<float>(3, 0.0f);
  comm.broadcast<float>(buffer, root);
  checker.equal("broadcast span", buffer, message);
  torch::Tensor shared = torch::arange(4, torch::kInt64) * (int64_t{1} << 33) + last;
  torch::Tensor received = r == last ? shared.clone() : torch::zeros(4, torch::kInt64);
  comm.broadcast(received, last);
  checker.equal("broadcast tensor", to_vector<int64_t>(received), to_vector<int64_t>(shared));
  for (auto [from, bytes] : {std::pair{root, int64_t{12}}, std::pair{last, int64_t{32}}}) {
    for (int p = 0; p < n; ++p) {
      if (r == from && p != from) expected.sent[p] += bytes;
    }
    if (r != from) expected.received[from] += bytes;
  }

  comm.barrier();

  std::vector<int64_t> sent(n), got(n);
  for (int p = 0; p < n; ++p) {
    sent[p] = comm.bytes_sent(p);
    got[p] = comm.bytes_received(p);
  }
  checker.equal("bytes_sent per peer", sent, expected.sent);
  checker.equal("bytes_received per peer", got, expected.received);
  auto total = [](const std::vector<int64_t>& v) {
    return std::accumulate(v.begin(), v.end(), int64_t{0});
  };
  checker.equal("bytes_sent total", comm.bytes_sent(), total(expected.sent));
  checker.equal("bytes_received total", comm.bytes_received(), total(expected.received));
}

// Messages around the ring through a Mailbox: two to the next rank under one
// tag (they must arrive in order), one to this rank; every rank sends first.
void mailbox_ring(Communicator& comm, Checker& checker) {
  const int r = comm.rank(), n = comm.size(), next = (r + 1) % n, previous = (r + n - 1) % n;
  auto message = [](int from, int k) {
    return Message{torch::full({2, 3}, static_cast<float>(10 * from + k)), torch::Tensor(),
                   torch::empty({0}, torch::kInt64), torch::tensor({uint8_t(from)}),
                   torch::tensor({int64_t{1000} * from + k})};
  };
  const int64_t sent_before = comm.bytes_sent(next);
  {
    Mailbox mailbox(comm);
    mailbox.send(next, 3, message(r, 1));
    mailbox.send(next, 3, message(r, 2));
    mailbox.send(r, 3, message(r, 9));
    for (int k : {1, 2}) {
      Message got = mailbox.recv(previous, 3);
      checker.equal(fmt::format("mailbox message {} values", k), to_vector<float>(got.at(0)),
                    to_vector<float>(message(previous, k)[0]));
      checker.equal("mailbox undefined tensor", got.at(1).defined(), false);
      checker.equal("mailbox empty tensor", got.at(2).numel(), int64_t{0});
      checker.equal("mailbox byte tensor", int{got.at(3)[0].item<uint8_t>()}, previous);
      checker.equal("mailbox int64 after the byte", got.at(4)[0].item<int64_t>(),
                    int64_t{1000} * previous + k);
    }
    checker.equal("mailbox local message", to_vector<float>(mailbox.recv(r, 3).at(0)),
                  to_vector<float>(message(r, 9)[0]));
    mailbox.flush();
  }
  // Per message: a 64-value header and one payload: 24 bytes of floats, one
  // byte, 7 bytes of padding so the int64 is aligned, and the int64.
  checker.equal("mailbox bytes sent", comm.bytes_sent(next) - sent_before,
                int64_t{2 * (512 + 24 + 1 + 7 + 8)});
}

// Rank 1 greets rank 0 (tag 7) and rank 0 answers with a tensor (tag 8);
// rank 2 then sends rank 0 a larger int32 tensor (tag 9) and an empty
// message (tag 10). Sends block until matched, so the order is fixed.
void point_to_point(Communicator& comm, Checker& checker) {
  const int r = comm.rank();
  const std::string greeting = "hello from rank 1";
  auto as_bytes = [](const std::string& s) {
    return std::span<const std::byte>(reinterpret_cast<const std::byte*>(s.data()), s.size());
  };
  torch::Tensor answer = torch::tensor({0.25f, -8.0f, 1e-3f});
  torch::Tensor large = torch::arange(1000, torch::kInt32) * 3 - 7;
  Bytes expected(comm.size());
  if (r == 0) {
    std::string got(greeting.size(), '\0');
    comm.recv(std::span<std::byte>(reinterpret_cast<std::byte*>(got.data()), got.size()), 1, 7);
    checker.equal("greeting", got, greeting);
    comm.send(answer, 1, 8);
    torch::Tensor got_large = torch::empty(1000, torch::kInt32);
    comm.recv(got_large, 2, 9);
    checker.equal("large tensor", to_vector<int32_t>(got_large), to_vector<int32_t>(large));
    comm.recv(std::span<std::byte>(), 2, 10);
    expected.received[1] = greeting.size();
    expected.sent[1] = 12;
    expected.received[2] = 4000;
  } else if (r == 1) {
    comm.send(as_bytes(greeting), 0, 7);
    torch::Tensor got = torch::empty(3);
    comm.recv(got, 0, 8);
    checker.equal("answer", to_vector<float>(got), to_vector<float>(answer));
    expected.sent[0] = greeting.size();
    expected.received[0] = 12;
  } else if (r == 2) {
    comm.send(large, 0, 9);
    comm.send(std::span<const std::byte>(), 0, 10);
    expected.sent[0] = 4000;
  }
  for (int p = 0; p < comm.size(); ++p) {
    checker.equal(fmt::format("bytes_sent to rank {}", p), comm.bytes_sent(p), expected.sent[p]);
    checker.equal(fmt::format("bytes_received from rank {}", p), comm.bytes_received(p),
                  expected.received[p]);
  }
  mailbox_ring(comm, checker);
}

// Runs `call`, which must fail: prints how long it took to and exits 2.
template <typename Call>
int expect_failure(Call&& call, Checker& checker) {
  const auto start = Clock::now();
  try {
    call();
  } catch (const Error& e) {
    fmt::print("error after {:.1f} s: {}\n",
               std::chrono::duration<double>(Clock::now() - start).count(), e.what());
    return 2;
  }
  checker.equal("call with a missing peer", std::string("returned"), std::string("throws Error"));
  return checker.finish();
}

// Rounds of alltoallv_lists on a channel, from a thread of their own, while
// this thread runs allreduces on the communicator: both must give exact
// values, and the channel's bytes count in the communicator's totals.
void channel(Communicator& comm, Checker& checker) {
  const int r = comm.rank(), n = comm.size();
  Communicator& side = comm.open_channel();
  constexpr int kRounds = 50;
  std::vector<std::vector<std::vector<int32_t>>> received(kRounds);
  std::exception_ptr error;
  std::thread loader([&] {
    try {
      for (int k = 0; k < kRounds; ++k) {
        std::vector<std::vector<int32_t>> lists(n);
        for (int p = 0; p < n; ++p) lists[p].assign(1000, 10000 * k + 100 * r + p);
        received[k] = side.alltoallv_lists(lists);
      }
    } catch (...) {
      error = std::current_exception();
    }
  });
  const int64_t sent_before = comm.bytes_sent();
  for (int k = 0; k < kRounds; ++k) {
    std::vector<float> values(1 << 16, static_cast<float>(r + k));
    comm.allreduce(values);
    checker.equal("allreduce beside the channel", values[0],
                  static_cast<float>(n * (n - 1) / 2 + n * k));
  }
  loader.join();
  if (error) std::rethrow_exception(error);
  for (int k = 0; k < kRounds; ++k)
    for (int p = 0; p < n; ++p)
      checker.equal("channel alltoallv_lists", received[k][p],
                    std::vector<int32_t>(1000, 10000 * k + 100 * p + r));
  const int64_t ring = n > 1 ? 2 * (n - 1) * (int64_t{1} << 16) * 4 / n : 0;
  const int64_t lists = (n - 1) * (8 + 4000);
  checker.equal("bytes sent, channel included", comm.bytes_sent() - sent_before,
                kRounds * (ring + lists));
}

int run(const std::map<std::string, std::string>& args) {
  auto arg = [&](const std::string& name, const std::string& fallback) {
    auto it = args.find(name);
    return it == args.end() ? fallback : it->second;
  };
  CommOptions options;
  options.backend = arg("backend", "gloo");
  options.rank = std::stoi(arg("rank", "0"));
  options.size = std::stoi(arg("size", "1"));
  options.master_port = std::stoi(arg("port", "29500"));
  options.timeout = std::chrono::milliseconds(std::stoi(arg("timeout-ms", "3000")));
  options.join_timeout = std::chrono::milliseconds(std::stoi(arg("join-timeout-ms", "0")));
  const std::string scenario = arg("scenario", "collectives");
  const int victim = std::stoi(arg("victim", "-1"));

  // Outlives the try: an Error is printed before the communicator goes away.
  std::unique_ptr<Communicator> comm;
  try {
    comm = make_communicator(options);
    Checker checker(comm->rank());
    if (scenario == "collectives") {
      collectives(*comm, checker);
    } else if (scenario == "point_to_point") {
      point_to_point(*comm, checker);
    } else if (scenario == "channel") {
      channel(*comm, checker);
    } else if (scenario == "die" || scenario == "stop" || scenario == "stall") {
      std::vector<float> values(1000, 1.0f);
      comm->allreduce(values);
      if (comm->rank() == victim && scenario == "stall") {
        std::this_thread::sleep_for(3 * options.timeout);
        return 0;
      }
      if (comm->rank() == victim) raise(scenario == "die" ? SIGKILL : SIGSTOP);
      if (scenario == "die") return expect_failure([&] { comm->allreduce(values); }, checker);
      std::vector<std::vector<int32_t>> lists(comm->size(), std::vector<int32_t>{1, 2, 3});
      return expect_failure([&] { comm->alltoallv_lists(lists); }, checker);
    } else if (scenario != "join") {
      fail("unknown scenario '{}'", scenario);
    }
    return checker.finish();
  } catch (const Error& e) {
    fmt::print("error: {}\n", e.what());
    return 2;
  }
}

}  // namespace
}  // namespace edgegnn::comm

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) args[std::string(argv[i]).substr(2)] = argv[i + 1];
  return edgegnn::comm::run(args);
}
