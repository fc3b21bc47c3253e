// Graph data layer benchmark: generation time and peak memory of a synthetic
// preset, binary-format write and open (mmap) time, and the time to read every
// feature byte after opening. Writes one JSON object to stdout.
//
//   graph_bench --preset reddit --dir /tmp/reddit [--threads 2] [--seed 0]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/parallel.h"
#include "graph/binary_format.h"
#include "graph/synthetic.h"
#include "runtime/memory_meter.h"

namespace {

using namespace edgegnn;

}  // namespace

int main(int argc, char** argv) {
  std::string preset_name = "reddit", dir = "/tmp/edgegnn-bench-graph";
  int threads = available_cores();
  uint64_t seed = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--preset") preset_name = value;
    else if (flag == "--dir") dir = value;
    else if (flag == "--threads") threads = std::stoi(value);
    else if (flag == "--seed") seed = std::stoull(value);
    else {
      std::fprintf(stderr, "graph_bench: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  try {
    nlohmann::json out = {{"benchmark", "graph"}, {"preset", preset_name}, {"threads", threads}};
    out["baseline_rss_bytes"] = runtime::rss_bytes();

    const auto& preset = graph::synthetic_preset(preset_name);
    auto start = Clock::now();
    graph::Graph g = graph::generate_synthetic(preset, {seed, threads});
    out["generate_seconds"] = seconds_since(start);
    out["generate_peak_rss_bytes"] = runtime::peak_rss_bytes();
    out["graph_bytes"] = g.memory_bytes();
    out["num_nodes"] = g.num_nodes;
    out["num_edges"] = g.num_edges();

    start = Clock::now();
    graph::write_binary_graph(g, dir);
    out["write_seconds"] = seconds_since(start);
    g = graph::Graph();

    runtime::reset_peak_rss();
    const int64_t rss_before_open = runtime::rss_bytes();
    start = Clock::now();
    graph::Graph mapped = graph::open_binary_graph(dir);
    out["open_seconds"] = seconds_since(start);
    out["open_rss_growth_bytes"] = runtime::rss_bytes() - rss_before_open;

    // Reading every feature once: the cost of a first pass over a mapped graph.
    start = Clock::now();
    double sum = 0;
    for (float x : mapped.features) sum += x;
    out["read_features_seconds"] = seconds_since(start);
    out["feature_checksum"] = sum;

    start = Clock::now();
    graph::OpenOptions verify;
    verify.verify_checksums = true;
    graph::open_binary_graph(dir, verify);
    out["open_verified_seconds"] = seconds_since(start);
    out["peak_rss_bytes"] = runtime::peak_rss_bytes();
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "graph_bench: error: %s\n", e.what());
    return 2;
  }
}
