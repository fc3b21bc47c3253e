#include "graph/summary.h"

#include <algorithm>

#include <fmt/format.h>

namespace edgegnn::graph {

GraphSummary summarize(const Graph& g) {
  GraphSummary s;
  s.name = g.name;
  s.num_nodes = g.num_nodes;
  s.num_edges = g.num_edges();
  s.num_features = g.num_features;
  s.num_classes = g.num_classes;
  s.num_train = count_mask(g.train_mask);
  s.num_val = count_mask(g.val_mask);
  s.num_test = count_mask(g.test_mask);
  s.class_counts.assign(g.num_classes, 0);
  for (int32_t label : g.labels) {
    if (label < 0) continue;
    ++s.num_labelled;
    ++s.class_counts[label];
  }

  std::vector<int64_t> degrees(g.num_nodes);
  for (int64_t v = 0; v < g.num_nodes; ++v) {
    degrees[v] = g.in_degree(v);
    s.in_degree.num_isolated += degrees[v] == 0;
    for (int32_t u : g.in_neighbors(v)) s.num_self_loops += u == g.global_id(v);
  }
  if (g.num_nodes > 0) {
    auto [lo, hi] = std::minmax_element(degrees.begin(), degrees.end());
    s.in_degree.min = *lo;
    s.in_degree.max = *hi;
    s.in_degree.mean = static_cast<double>(g.num_edges()) / g.num_nodes;
    std::nth_element(degrees.begin(), degrees.begin() + g.num_nodes / 2, degrees.end());
    s.in_degree.median = degrees[g.num_nodes / 2];
  }

  s.array_bytes = {{"rowptr", g.rowptr.memory_bytes()},     {"col", g.col.memory_bytes()},
                   {"features", g.features.memory_bytes()}, {"labels", g.labels.memory_bytes()},
                   {"masks", g.train_mask.memory_bytes() + g.val_mask.memory_bytes() +
                                 g.test_mask.memory_bytes()}};
  s.total_bytes = g.memory_bytes();
  return s;
}

namespace {

std::string mib(size_t bytes) { return fmt::format("{:.1f} MiB", bytes / 1048576.0); }

}  // namespace

std::string format_summary(const GraphSummary& s) {
  std::string out;
  auto line = [&](std::string_view key, const std::string& value) {
    out += fmt::format("{:<14}{}\n", key, value);
  };
  line("dataset", s.name);
  line("nodes", fmt::format("{}", s.num_nodes));
  line("edges", fmt::format("{} directed ({} self-loops)", s.num_edges, s.num_self_loops));
  line("in-degree", fmt::format("min {}, median {}, mean {:.2f}, max {}, {} isolated",
                                s.in_degree.min, s.in_degree.median, s.in_degree.mean,
                                s.in_degree.max, s.in_degree.num_isolated));
  line("features", fmt::format("{}", s.num_features));
  line("classes", fmt::format("{} ({} labelled nodes: {})", s.num_classes, s.num_labelled,
                              fmt::join(s.class_counts, " ")));
  line("split", fmt::format("train {}, val {}, test {}", s.num_train, s.num_val, s.num_test));
  for (const auto& [name, bytes] : s.array_bytes) line(name, mib(bytes));
  line("total", mib(s.total_bytes));
  return out;
}

}  // namespace edgegnn::graph
