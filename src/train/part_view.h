// PartView: what one rank of partition-parallel training holds of a graph —
// its part (the rows of the nodes it owns, their in-edges with global source
// ids, their features, labels and masks) and the partition book's offsets,
// which say where every other node lives. Borrowed views; the owner keeps
// them alive.
//
// Each part owns a contiguous range of global ids (partition_book.h), so
// finding a node's owner is a binary search over num_parts + 1 offsets and
// nothing here grows with the nodes other parts own.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>

#include "graph/graph.h"

namespace edgegnn::train {

struct PartView {
  const graph::Graph& part;             // rows = owned nodes, ascending global id
  std::span<const int32_t> global_ids;  // row -> global id
  std::span<const int64_t> offsets;     // part k owns global ids [offsets[k], offsets[k+1])

  // The part (= rank) that owns global id v.
  int owner(int32_t v) const {
    const auto after = std::upper_bound(offsets.begin(), offsets.end(), v);
    return static_cast<int>(after - offsets.begin()) - 1;
  }
  // v's row in its owner's part.
  int32_t local_row(int32_t v) const { return static_cast<int32_t>(v - offsets[owner(v)]); }
  int64_t num_nodes() const { return offsets.back(); }
};

}  // namespace edgegnn::train
