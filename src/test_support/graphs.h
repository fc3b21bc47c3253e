// Tiny hand-checked graphs shared by tests.
#pragma once

#include <span>
#include <vector>

#include "graph/graph.h"

namespace edgegnn::test {

// A Buffer's values, to compare with expected ones.
template <typename T>
std::vector<T> to_vector(const graph::Buffer<T>& buffer) {
  return {buffer.begin(), buffer.end()};
}

// 3 nodes, path 0 - 1 - 2 (both directions), 2 features, 2 classes:
//   rowptr {0, 1, 3, 4}, col {1, 0, 2, 1}, features {1,2 | 3,4 | 5,6},
//   labels {0, 1, -1}, train {0}, val {1}, test {2}.
graph::Graph path_graph();

// g with node v renamed new_ids[v] (a permutation): rows moved, sources
// renamed and each row sorted again. The whole graph as a partition numbers
// it (partition::range_ids), to compare a part with.
graph::Graph relabel_graph(const graph::Graph& g, std::span<const int32_t> new_ids);

}  // namespace edgegnn::test
