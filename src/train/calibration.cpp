#include "train/calibration.h"

#include <algorithm>
#include <exception>
#include <numeric>
#include <thread>
#include <vector>

#include "comm/communicator.h"
#include "comm/gloo_communicator.h"
#include "core/clock.h"
#include "core/random.h"
#include "graph/graph.h"
#include "nn/csr_aggregate.h"
#include "nn/feature_matrix.h"
#include "runtime/launcher.h"
#include "sample/neighbor_sampler.h"

namespace edgegnn::train {
namespace {

// The median seconds of `round` over rounds run until `budget` seconds have
// passed (at least 3), after one untimed round that warms threads and caches.
double median_seconds(double budget, const std::function<void()>& round) {
  round();
  std::vector<double> times;
  const auto start = Clock::now();
  while (times.size() < 3 || seconds_since(start) < budget) {
    const auto t = Clock::now();
    round();
    times.push_back(seconds_since(t));
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

// `count` ids drawn uniformly from [0, bound).
std::vector<int32_t> uniform_ids(int64_t count, int64_t bound, KeyedRandom& random) {
  std::vector<int32_t> ids(count);
  for (int32_t& id : ids) id = static_cast<int32_t>(random.below(bound));
  return ids;
}

double gemm_gflops(int64_t rows, int64_t in, int64_t out, double budget) {
  const torch::Tensor a = torch::randn({rows, in});
  const torch::Tensor w = torch::randn({out, in});
  const double seconds = median_seconds(budget, [&] { torch::mm(a, w.t()); });
  return 2.0 * rows * in * out / seconds / 1e9;
}

double aggregation_bytes_per_second(const CalibrationOptions& o) {
  constexpr int64_t kEdgesPerRow = 10;  // reddit.py's first layer samples 10
  const int64_t row_bytes = o.features * static_cast<int64_t>(sizeof(float));
  const int64_t num_rows = std::max<int64_t>(1, o.aggregation_matrix_bytes / row_bytes);
  const nn::FeatureMatrix x(torch::randn({num_rows, o.features}));
  // Output rows: few enough that the output (20 MB at 602 features) comes
  // from the heap; a fresh mmap each round would time page faults instead.
  const int64_t dst = std::min<int64_t>(o.gemm_rows, (int64_t{20} << 20) / row_bytes);
  KeyedRandom random(o.seed);
  std::vector<int32_t> col = uniform_ids(dst * kEdgesPerRow, num_rows, random);
  const nn::CsrAdjacency adjacency{
      torch::arange(dst + 1, torch::kInt64) * kEdgesPerRow,
      torch::from_blob(col.data(), {dst * kEdgesPerRow}, torch::kInt32),
      {}};
  const double seconds = median_seconds(
      o.seconds_per_probe, [&] { nn::csr_aggregate(x, adjacency, nn::Aggregation::kMean); });
  return static_cast<double>(dst * kEdgesPerRow * row_bytes) / seconds;
}

// A uniform random graph (200 K nodes of degree 50, 10 M edges, 40 MB):
// sampling speed depends on the graph's size against the caches, not its shape.
double sampled_edges_per_second(const CalibrationOptions& o) {
  constexpr int64_t kNodes = 200000, kDegree = 50, kBatch = 1024;
  graph::Graph g;
  g.num_nodes = kNodes;
  g.has_features = false;
  std::vector<int64_t> rowptr(kNodes + 1);
  for (int64_t i = 0; i <= kNodes; ++i) rowptr[i] = i * kDegree;
  KeyedRandom random(o.seed);
  g.rowptr = graph::Buffer<int64_t>(std::move(rowptr));
  g.col = graph::Buffer<int32_t>(uniform_ids(kNodes * kDegree, kNodes, random));
  const sample::NeighborSampler sampler(g, {{25, 10}, o.seed, o.threads});
  // Batches of consecutive ids: in a uniform random graph, as good as any.
  std::vector<int32_t> seeds(kNodes);
  std::iota(seeds.begin(), seeds.end(), 0);
  uint64_t key = 0;
  int64_t edges = 0;
  const double seconds = median_seconds(o.seconds_per_probe, [&] {
    const auto first = seeds.begin() + static_cast<int64_t>(key % (kNodes / kBatch)) * kBatch;
    const sample::Batch batch = sampler.sample({&*first, static_cast<size_t>(kBatch)}, key++);
    edges = 0;
    for (const sample::Block& block : batch.blocks) edges += block.num_edges();
  });
  // Every batch samples about as many edges (fanouts capped by degree 50).
  return static_cast<double>(edges) / seconds;
}

// Seconds for `count` messages of `buffer` from rank `from` to rank `to`,
// timed at `to` after the first (connections and pages warmed); 0 elsewhere.
double transfer_seconds(comm::Communicator& comm, std::vector<std::byte>& buffer, int from, int to,
                        int count) {
  if (comm.rank() == from)
    for (int i = 0; i < count; ++i) comm.send(buffer, to, i);
  if (comm.rank() != to) return 0;
  comm.recv(buffer, from, 0);
  const auto start = Clock::now();
  for (int i = 1; i < count; ++i) comm.recv(buffer, from, i);
  return seconds_since(start);
}

// Bytes per second that Gloo moves from one rank to another of this process
// over loopback: the CPU cost of messages (both ends' copies, the kernel's
// sockets) where devices share a machine's cores. Timed at the receiver over
// the messages after the first.
double message_bytes_per_second(const CalibrationOptions& o) {
  constexpr int64_t kMessageBytes = int64_t{16} << 20;
  constexpr int kMessages = 17;
  comm::CommOptions options;
  options.size = 2;
  options.master_port = runtime::find_free_port(options.master_addr);
  options.timeout = std::chrono::seconds(30);
  std::exception_ptr failed;
  std::thread sender([&] {
    try {
      comm::CommOptions mine = options;
      mine.rank = 1;
      std::vector<std::byte> sent(kMessageBytes, std::byte{1});
      transfer_seconds(*comm::make_communicator(mine), sent, 1, 0, kMessages);
    } catch (...) {
      failed = std::current_exception();
    }
  });
  std::vector<std::byte> received(kMessageBytes);
  double seconds = 0;
  try {
    seconds = transfer_seconds(*comm::make_communicator(options), received, 1, 0, kMessages);
  } catch (...) {
    sender.join();
    throw;
  }
  sender.join();
  if (failed) std::rethrow_exception(failed);
  return static_cast<double>((kMessages - 1) * kMessageBytes) / seconds;
}

}  // namespace

LinkRates probe_link(const std::string& peer, bool listen, int port) {
  constexpr int64_t kMessageBytes = int64_t{4} << 20;
  constexpr int kMessages = 17;
  comm::CommOptions options;
  options.size = 2;
  options.rank = listen ? 0 : 1;
  options.master_port = port;
  options.master_addr = listen ? comm::local_address_towards(peer, port) : peer;
  // The other side may be started by hand a minute later.
  options.join_timeout = std::chrono::minutes(2);
  const auto comm = comm::make_communicator(options);
  std::vector<std::byte> buffer(kMessageBytes, std::byte{1});
  // Each side times what it receives; an allreduce tells each what it sent.
  std::vector<float> rates(2, 0.0f);
  for (int from : {0, 1}) {
    const double seconds = transfer_seconds(*comm, buffer, from, 1 - from, kMessages);
    if (comm->rank() != from)
      rates[from] = static_cast<float>(8.0 * (kMessages - 1) * kMessageBytes / seconds);
  }
  comm->allreduce(rates);
  return {rates[comm->rank()], rates[1 - comm->rank()]};
}

runtime::ComputeRates calibrate(const CalibrationOptions& options,
                                const std::function<void(const std::string&)>& on_probe) {
  runtime::ComputeRates r;
  r.threads = options.threads;
  on_probe("GEMM");
  r.gemm_flops = 1e9 * gemm_gflops(options.gemm_rows, options.features, options.hidden,
                                   options.seconds_per_probe);
  r.output_gemm_flops = 1e9 * gemm_gflops(options.gemm_rows, options.hidden, options.classes,
                                          options.seconds_per_probe);
  on_probe("aggregation");
  r.aggregation_bytes = aggregation_bytes_per_second(options);
  on_probe("sampling");
  r.sampled_edges = sampled_edges_per_second(options);
  on_probe("messages");
  r.message_bytes = message_bytes_per_second(options);
  return r;
}

nlohmann::json probe_shapes(const CalibrationOptions& o) {
  return {{"gemm", {o.gemm_rows, o.features, o.hidden}},
          {"output_gemm", {o.gemm_rows, o.hidden, o.classes}},
          {"aggregation", "mean of 10 random rows per output row, " + std::to_string(o.features) +
                              " floats each, of a " +
                              std::to_string(o.aggregation_matrix_bytes >> 20) + " MiB matrix"},
          {"sampling", "fanouts 25,10, batches of 1024, 200 K nodes of degree 50"},
          {"messages", "gloo send and recv of 16 MiB between two ranks on loopback"}};
}

}  // namespace edgegnn::train
