// PartView: what one rank of partition-parallel training holds of a graph —
// its part (the rows of the nodes it owns, their in-edges with global source
// ids, their features, labels and masks) and the partition book that says
// where every other node lives. Borrowed views; the owner keeps them alive.
#pragma once

#include <cstdint>
#include <span>

#include "graph/graph.h"

namespace edgegnn::train {

struct PartView {
  const graph::Graph& part;             // rows = owned nodes, ascending global id
  std::span<const int32_t> global_ids;  // row -> global id
  std::span<const int32_t> node_part;   // global id -> owning part (= rank)
  std::span<const int32_t> node_local;  // global id -> row in its owner's part
  int64_t num_nodes() const { return static_cast<int64_t>(node_part.size()); }
};

}  // namespace edgegnn::train
