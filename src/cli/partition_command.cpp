#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/clock.h"
#include "graph/dataset.h"
#include "partition/partition_writer.h"
#include "partition/partitioner.h"
#include "runtime/memory_meter.h"
#include "runtime/threads.h"

namespace edgegnn::cli {
void run_partition(const PartitionArgs& args) {
  const partition::PartitionMethod method = partition::parse_partition_method(args.method);
  check(args.num_parts >= 1, "--parts: {} parts, expected at least 1", args.num_parts);
  const int threads = runtime::configure_threads(args.data.threads);
  // Fail before minutes of loading and METIS, not after.
  std::error_code ec;
  std::filesystem::create_directories(args.out, ec);
  check(!ec, "--out: cannot create {}: {}", args.out, ec.message());

  auto start = Clock::now();
  fmt::print(stderr, "loading {}...\n", args.data.dataset);
  graph::Graph g =
      load_dataset_and_warn(args.data.dataset, args.data.root,
                            {.seed = args.data.seed, .num_threads = threads, .parts = {}});
  const double load_seconds = seconds_since(start);
  fmt::print(stderr,
             "loaded {} ({} nodes, {} edges) in {:.1f} s; partitioning into {} parts with {}...\n",
             g.name, g.num_nodes, g.num_edges(), load_seconds, args.num_parts, args.method);

  start = Clock::now();
  std::vector<int32_t> node_part = partition::partition_nodes(g, {.num_parts = args.num_parts,
                                                                  .method = method,
                                                                  .seed = args.data.seed,
                                                                  .num_threads = threads});
  const double partition_seconds = seconds_since(start);
  fmt::print(stderr, "partitioned in {:.1f} s\n", partition_seconds);

  start = Clock::now();
  partition::PartitionWriteOptions write_options{
      .num_parts = args.num_parts,
      .method = method,
      .seed = args.data.seed,
      .num_threads = threads,
      .on_part = [&](int part) {
        fmt::print(stderr, "writing part {}/{} to {}...\n", part + 1, args.num_parts,
                   partition::part_directory(args.out, part).string());
      }};
  partition::PartitionBook book = partition::write_partition(g, node_part, args.out, write_options);
  const double write_seconds = seconds_since(start);
  const int64_t peak_rss_bytes = runtime::peak_rss_bytes();
  fmt::print(stderr, "written in {:.1f} s; peak RSS {:.0f} MiB\n", write_seconds,
             peak_rss_bytes / 1048576.0);

  if (args.json) {
    std::ifstream in(std::filesystem::path(args.out) / "partition.json");
    nlohmann::json out = nlohmann::json::parse(in);
    out["seconds"] = {
        {"load", load_seconds}, {"partition", partition_seconds}, {"write", write_seconds}};
    out["peak_rss_bytes"] = peak_rss_bytes;
    fmt::print("{}\n", out.dump(2));
    return;
  }
  fmt::print("{:<14}{} into {} parts ({}, seed {}) in {}\n", "partition", book.dataset.name,
             book.num_parts, args.method, book.seed, args.out);
  fmt::print("{}", partition::format_partition_summary(book.summary));
}

}  // namespace edgegnn::cli
