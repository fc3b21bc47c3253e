#include <chrono>
#include <filesystem>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/clock.h"
#include "graph/binary_format.h"
#include "graph/summary.h"
#include "graph/synthetic.h"
#include "runtime/threads.h"

namespace edgegnn::cli {
void run_generate(const GenerateArgs& args) {
  const graph::SyntheticPreset preset =
      graph::scaled_preset(graph::synthetic_preset(args.preset), args.scale);
  const int threads = runtime::configure_threads(args.threads);
  // Fail before minutes of generation, not after.
  std::error_code ec;
  std::filesystem::create_directories(args.out, ec);
  check(!ec, "--out: cannot create {}: {}", args.out, ec.message());
  auto start = Clock::now();
  fmt::print(stderr, "generating synthetic-{} ({} nodes, ~{} edges) on {} threads...\n",
             preset.name, preset.num_nodes, preset.num_directed_edges, threads);
  graph::Graph g = graph::generate_synthetic(preset, {args.seed, threads});
  fmt::print(stderr, "generated in {:.1f} s; writing {}...\n", seconds_since(start), args.out);
  start = Clock::now();
  graph::write_binary_graph(g, args.out);
  fmt::print(stderr, "written in {:.1f} s\n", seconds_since(start));
  fmt::print("{}", graph::format_summary(graph::summarize(g)));
}

}  // namespace edgegnn::cli
