#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "graph/dataset.h"
#include "graph/summary.h"

namespace edgegnn::cli {

void run_info(const InfoArgs& args) {
  const auto& d = args.data;
  graph::Graph g = load_dataset_and_warn(d.dataset, d.root,
                                         {.seed = d.seed, .num_threads = d.threads, .parts = {}});
  graph::GraphSummary s = graph::summarize(g);
  if (!args.json) {
    fmt::print("{}", graph::format_summary(s));
    return;
  }
  nlohmann::json bytes = nlohmann::json::object();
  for (const auto& [name, n] : s.array_bytes) bytes[name] = n;
  nlohmann::json out = {
      {"dataset", s.name},
      {"num_nodes", s.num_nodes},
      {"num_edges", s.num_edges},
      {"num_self_loops", s.num_self_loops},
      {"num_features", s.num_features},
      {"num_classes", s.num_classes},
      {"num_train", s.num_train},
      {"num_val", s.num_val},
      {"num_test", s.num_test},
      {"num_labelled", s.num_labelled},
      {"class_counts", s.class_counts},
      {"in_degree",
       {{"min", s.in_degree.min},
        {"median", s.in_degree.median},
        {"mean", s.in_degree.mean},
        {"max", s.in_degree.max},
        {"num_isolated", s.in_degree.num_isolated}}},
      {"bytes", bytes},
      {"total_bytes", s.total_bytes}};
  fmt::print("{}\n", out.dump(2));
}

}  // namespace edgegnn::cli
