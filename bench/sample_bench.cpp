// Neighbour sampler benchmark (issue 3): sampled edges per second, and per core,
// for a batch size and fanouts, with the unique input nodes per batch and the
// mean block sizes per layer. Writes one JSON object to stdout.
//
//   sample_bench --preset reddit | --graph DIR  [--fanouts 25,10] [--batch-size 1024]
//                [--batches 50] [--threads 1,2] [--seed 0]
//
// --preset generates the graph in memory; --graph maps a graph written by
// `edgegnn generate`, which is much faster to start. The seeds are the training
// nodes, shuffled and cut into batches exactly as BatchLoader does for epoch 0,
// and the first --batches batches (0 = the whole epoch) are measured once per
// thread count:
//  - direct: NeighborSampler::sample on each batch, timed call by call, so the
//    figures are the sampler's alone;
//  - loader: the same batches through a BatchLoader whose consumer drops each
//    batch at once, so the difference is the cost of the prefetch thread and queue.
// Each batch's blocks are reduced to a digest outside the timed region; the
// digests must agree across thread counts ("identical_across_threads") and
// between the loader and the direct calls ("loader_matches_direct").
#include <sched.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/random.h"
#include "graph/binary_format.h"
#include "graph/synthetic.h"
#include "runtime/memory_meter.h"
#include "sample/batch_loader.h"
#include "sample/neighbor_sampler.h"

namespace {

using namespace edgegnn;
using nlohmann::json;

struct Args {
  std::string preset;     // generate this preset in memory, or
  std::string graph_dir;  // open this binary graph
  std::vector<int> fanouts = {25, 10};
  int64_t batch_size = 1024;
  int64_t batches = 50;  // 0 = the whole epoch
  std::vector<int> threads = {1};
  uint64_t seed = 0;  // sampler and shuffle seed; also the generator's with --preset
};

std::vector<int> parse_int_list(const std::string& flag, const std::string& value) {
  std::vector<int> out;
  std::stringstream in(value);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    int x = 0;
    try {
      x = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    check(used > 0 && used == item.size(), "{}: '{}' is not a comma-separated list of integers",
          flag, value);
    out.push_back(x);
  }
  check(!out.empty(), "{}: empty list", flag);
  return out;
}

int64_t parse_int(const std::string& flag, const std::string& value) {
  std::vector<int> list = parse_int_list(flag, value);
  check(list.size() == 1, "{}: expected one integer, got '{}'", flag, value);
  return list[0];
}

Args parse_args(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    check(i + 1 < argc, "{}: missing value", flag);
    const std::string value = argv[i + 1];
    if (flag == "--preset")
      args.preset = value;
    else if (flag == "--graph")
      args.graph_dir = value;
    else if (flag == "--fanouts")
      args.fanouts = parse_int_list(flag, value);
    else if (flag == "--batch-size")
      args.batch_size = parse_int(flag, value);
    else if (flag == "--batches")
      args.batches = parse_int(flag, value);
    else if (flag == "--threads")
      args.threads = parse_int_list(flag, value);
    else if (flag == "--seed")
      args.seed = static_cast<uint64_t>(parse_int(flag, value));  // checked below
    else
      fail("unknown flag {} (see the comment atop bench/sample_bench.cpp)", flag);
  }
  check(args.preset.empty() != args.graph_dir.empty(), "give exactly one of --preset and --graph");
  check(args.batch_size > 0, "--batch-size: {} is not positive", args.batch_size);
  check(args.batches >= 0, "--batches: {} is negative", args.batches);
  for (int t : args.threads) check(t > 0, "--threads: {} is not a positive count", t);
  for (int f : args.fanouts) check(f == -1 || f > 0, "--fanouts: {} is not positive or -1", f);
  check(static_cast<int64_t>(args.seed) >= 0, "--seed: {} is negative",
        static_cast<int64_t>(args.seed));
  return args;
}

// --- Machine description ----------------------------------------------------

std::string read_first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      return colon == std::string::npos ? line
                                        : line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  return "unknown";
}

// The 1, 5 and 15 minute load averages: other work on the machine skews the figures.
json load_average() {
  std::istringstream in(read_first_line("/proc/loadavg"));
  double a = 0, b = 0, c = 0;
  in >> a >> b >> c;
  return {a, b, c};
}

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

json machine_info() {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  int nproc = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : -1;
  utsname uts{};
  uname(&uts);
  return {{"hostname", uts.nodename},
          {"kernel", uts.release},
          {"nproc", nproc},  // CPUs this process may run on, as nproc(1) counts them
          {"online_cpus", available_cores()},
          {"cpu_model", cpu_model()},
          {"mem_total", read_first_line("/proc/meminfo")},
          {"compiler", __VERSION__}};
}

// --- Measurement ------------------------------------------------------------

// CPU seconds (user + system) this process has used, over all its threads. On a
// shared machine a run may get less than `threads` cores; edges per CPU second
// is the per-core figure that survives that.
double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](timeval t) { return t.tv_sec + t.tv_usec * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// An order-sensitive digest of every array of every block: equal digests mean
// identical batches (up to a 2^-64 collision), without keeping the batches.
uint64_t digest_batch(const sample::Batch& batch) {
  uint64_t h = 0;
  auto mix = [&h](auto values) {
    h = splitmix64(h ^ values.size());
    for (auto x : values) h = splitmix64(h ^ static_cast<uint64_t>(x));
  };
  for (const sample::Block& block : batch.blocks) {
    mix(std::span(block.dst_ids));
    mix(std::span(block.src_ids));
    mix(std::span(block.rowptr));
    mix(std::span(block.col));
  }
  return h;
}

// Running mean, min and max of one per-batch figure.
struct Stat {
  double sum = 0, min = 0, max = 0;
  int64_t n = 0;
  void add(double x) {
    min = n == 0 ? x : std::min(min, x);
    max = n == 0 ? x : std::max(max, x);
    sum += x;
    ++n;
  }
  double mean() const { return n ? sum / n : 0; }
  json to_json() const { return {{"mean", mean()}, {"min", min}, {"max", max}}; }
};

// The epoch-0 order of `seeds`: the same Fisher-Yates shuffle as BatchLoader's
// constructor. The loader pass checks that the two agree ("loader_matches_direct").
std::vector<int32_t> shuffled(std::vector<int32_t> order, uint64_t shuffle_seed) {
  KeyedRandom rng(shuffle_seed, /*key1=*/0x5eed5, /*epoch=*/0);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  return order;
}

struct Run {
  json report;
  std::vector<uint64_t> digests;
};

Run measure(const graph::Graph& g, const std::vector<int32_t>& train_nodes,
            const std::vector<int32_t>& order, const Args& args, int64_t num_batches, int threads) {
  runtime::reset_peak_rss();
  const int64_t rss_before = runtime::rss_bytes();
  sample::NeighborSampler sampler(g, {args.fanouts, args.seed, threads});
  const size_t num_layers = args.fanouts.size();
  auto batch_seeds = [&](int64_t b) {
    const int64_t begin = b * args.batch_size;
    return std::span(order).subspan(begin,
                                    std::min<int64_t>(args.batch_size, order.size() - begin));
  };
  // Batch b of epoch 0 has batch key (0 << 32) | b, as in BatchLoader.
  sampler.sample(batch_seeds(0), /*batch_key=*/0);  // warm-up: allocator, first-touch pages

  Run run;
  double seconds = 0, cpu = 0;
  int64_t edges = 0;
  Stat batch_ms, input_nodes;
  std::vector<Stat> num_dst(num_layers), num_src(num_layers), num_edges(num_layers);
  for (int64_t b = 0; b < num_batches; ++b) {
    const double cpu_start = cpu_seconds();
    const auto start = Clock::now();
    sample::Batch batch = sampler.sample(batch_seeds(b), static_cast<uint64_t>(b));
    const double s = seconds_since(start);
    cpu += cpu_seconds() - cpu_start;
    seconds += s;
    batch_ms.add(s * 1e3);
    input_nodes.add(static_cast<double>(batch.input_ids().size()));
    for (size_t l = 0; l < num_layers; ++l) {
      const sample::Block& block = batch.blocks[l];
      edges += block.num_edges();
      num_dst[l].add(block.num_dst());
      num_src[l].add(block.num_src());
      num_edges[l].add(block.num_edges());
    }
    run.digests.push_back(digest_batch(batch));
  }
  const int64_t peak_direct = runtime::peak_rss_bytes();

  // The same batches through the loader's prefetch thread and queue, timed with
  // a consumer that drops each batch at once, so the difference from the direct
  // calls is the thread and queue alone. A second, untimed pass digests them.
  const sample::LoaderOptions loader_options{args.batch_size, /*epoch=*/0,
                                             /*shuffle_seed=*/args.seed};
  double loader_seconds = 0, loader_sample_seconds = 0;
  {
    const auto start = Clock::now();
    sample::BatchLoader loader(sampler, train_nodes, loader_options);
    for (int64_t b = 0; b < num_batches; ++b)
      check(loader.next().has_value(), "loader ended after {} of {} batches", b, num_batches);
    loader_seconds = seconds_since(start);
    loader_sample_seconds = loader.sample_seconds();  // may include batches sampled ahead
  }  // the destructor stops the producer; it may finish a batch in flight, untimed
  std::vector<uint64_t> loader_digests;
  {
    sample::BatchLoader loader(sampler, train_nodes, loader_options);
    for (int64_t b = 0; b < num_batches; ++b) {
      std::optional<sample::Batch> batch = loader.next();
      check(batch.has_value(), "loader ended after {} of {} batches", b, num_batches);
      loader_digests.push_back(digest_batch(*batch));
    }
  }

  json layers = json::array();
  for (size_t l = 0; l < num_layers; ++l)
    layers.push_back({{"layer", l},
                      {"fanout", args.fanouts[num_layers - 1 - l]},
                      {"mean_num_dst", num_dst[l].mean()},
                      {"mean_num_src", num_src[l].mean()},
                      {"mean_num_edges", num_edges[l].mean()}});
  run.report = {
      {"threads", threads},
      {"batches", num_batches},
      {"seconds", seconds},
      {"sampled_edges", edges},
      {"edges_per_second", edges / seconds},
      {"edges_per_second_per_core", edges / seconds / threads},
      {"cpu_seconds", cpu},  // user + system, all threads
      {"edges_per_cpu_second", edges / cpu},
      {"cores_used", cpu / seconds},  // below `threads` when the machine is busy
      {"batches_per_second", num_batches / seconds},
      {"batch_ms", batch_ms.to_json()},
      {"unique_input_nodes", input_nodes.to_json()},
      {"layers", layers},  // input layer first, as in Batch::blocks
      {"loader",
       {{"seconds", loader_seconds},
        {"producer_sample_seconds", loader_sample_seconds},
        {"seconds_over_direct", loader_seconds / seconds},
        {"matches_direct", loader_digests == run.digests}}},
      {"rss_before_bytes", rss_before},
      {"peak_rss_bytes", peak_direct},  // the direct pass; the loader's is alike
      {"load_average", load_average()},
  };
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args args = parse_args(argc, argv);
    json out = {{"benchmark", "sample"},
                {"date", utc_now()},
                {"machine", machine_info()},
                {"load_average_start", load_average()}};

    auto start = Clock::now();
    graph::Graph g;
    json graph_info;
    if (!args.preset.empty()) {
      g = graph::generate_synthetic(graph::synthetic_preset(args.preset), {args.seed, 0});
      graph_info["source"] = "generated preset " + args.preset;
    } else {
      g = graph::open_binary_graph(args.graph_dir);
      graph_info["source"] = args.graph_dir;
    }
    graph_info["load_seconds"] = seconds_since(start);
    // Fault in the CSR once (a mapped graph's pages load on first touch), so
    // the first thread count measured does not pay for them. Features are not
    // read: sampling never touches them.
    start = Clock::now();
    int64_t touch = 0;
    for (int64_t x : g.rowptr) touch += x;
    for (int32_t x : g.col) touch += x;
    graph_info["warm_csr_seconds"] = seconds_since(start);
    graph_info["warm_csr_checksum"] = touch;
    const std::vector<int32_t> train_nodes = sample::mask_nodes(g.train_mask.span());
    graph_info["name"] = g.name;
    graph_info["num_nodes"] = g.num_nodes;
    graph_info["num_edges"] = g.num_edges();
    graph_info["mean_in_degree"] = static_cast<double>(g.num_edges()) / g.num_nodes;
    graph_info["num_train"] = train_nodes.size();
    graph_info["bytes"] = g.memory_bytes();
    graph_info["load_peak_rss_bytes"] = runtime::peak_rss_bytes();
    out["graph"] = graph_info;
    check(!train_nodes.empty(), "{}: no training nodes to use as seeds",
          graph_info["source"].get<std::string>());

    const std::vector<int32_t> order = shuffled(train_nodes, args.seed);
    const int64_t epoch_batches =
        (static_cast<int64_t>(order.size()) + args.batch_size - 1) / args.batch_size;
    const int64_t num_batches =
        args.batches == 0 ? epoch_batches : std::min(args.batches, epoch_batches);
    out["fanouts"] = args.fanouts;
    out["batch_size"] = args.batch_size;
    out["batches"] = num_batches;
    out["epoch_batches"] = epoch_batches;
    out["seed"] = args.seed;

    json runs = json::array();
    std::vector<uint64_t> first_digests;
    bool identical = true, loader_matches = true;
    int64_t peak = out["graph"]["load_peak_rss_bytes"];
    for (int threads : args.threads) {
      Run run = measure(g, train_nodes, order, args, num_batches, threads);
      if (first_digests.empty()) first_digests = run.digests;
      identical = identical && run.digests == first_digests;
      loader_matches = loader_matches && run.report["loader"]["matches_direct"].get<bool>();
      const double rate = run.report["edges_per_second"];
      run.report["edges_per_second_over_first"] =
          runs.empty() ? 1.0 : rate / runs[0]["edges_per_second"].get<double>();
      peak = std::max(peak, run.report["peak_rss_bytes"].get<int64_t>());
      runs.push_back(run.report);
      std::fprintf(stderr, "sample_bench: %d thread(s): %.3g edges/s\n", threads, rate);
    }
    out["runs"] = runs;
    out["identical_across_threads"] = identical;
    out["loader_matches_direct"] = loader_matches;
    out["peak_rss_bytes"] = peak;
    out["load_average_end"] = load_average();
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sample_bench: error: %s\n", e.what());
    return 2;
  }
}
