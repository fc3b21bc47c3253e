// GraphSummary: the counts `edgegnn info` prints — sizes, in-degree statistics,
// split sizes and bytes per array — computed once from a Graph.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"

namespace edgegnn::graph {

struct DegreeStats {
  int64_t min = 0;
  int64_t max = 0;
  double mean = 0;
  int64_t median = 0;
  int64_t num_isolated = 0;  // nodes with no in-edge
};

struct GraphSummary {
  std::string name;
  int64_t num_nodes = 0;
  int64_t num_edges = 0;  // directed, as stored
  int64_t num_self_loops = 0;
  int64_t num_features = 0;
  int32_t num_classes = 0;
  int64_t num_train = 0, num_val = 0, num_test = 0;
  int64_t num_labelled = 0;
  std::vector<int64_t> class_counts;  // over all labelled nodes
  DegreeStats in_degree;
  std::vector<std::pair<std::string, size_t>> array_bytes;  // name, bytes
  size_t total_bytes = 0;
};

GraphSummary summarize(const Graph& g);

// Human-readable multi-line report of `s`.
std::string format_summary(const GraphSummary& s);

}  // namespace edgegnn::graph
