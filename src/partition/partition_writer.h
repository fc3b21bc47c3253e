// write_partition: cuts a graph into the parts a partition_nodes() result names
// and writes a partition directory (layout in partition_book.h).
//
// Part k is an ordinary binary-format graph whose rows are the nodes k owns, in
// ascending global id order: their in-edges with global source ids
// (num_source_nodes = the whole graph's node count), features, labels, split
// masks and global_ids. Example, the path 0 - 1 - 2 with node_part {0, 0, 1}:
//   part-0: global_ids {0, 1}, rowptr {0, 1, 3}, col {1, 0, 2}, halo {2}
//   part-1: global_ids {2},    rowptr {0, 1},    col {1},       halo {1}
//   one undirected edge cut (1 - 2), two in-edges cut (2 -> 1, 1 -> 2).
//
// Parts are built and written one at a time, so memory stays near the graph
// plus its largest part.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>

#include "graph/graph.h"
#include "partition/partition_book.h"

namespace edgegnn::partition {

struct PartitionWriteOptions {
  int num_parts = 1;
  // Recorded in partition.json: how node_part was made.
  PartitionMethod method = PartitionMethod::kMetis;
  uint64_t seed = 0;
  int num_threads = 0;  // 0 = the cores available
  // Called before part k of num_parts is built, for progress output.
  std::function<void(int part)> on_part;
};

// Writes g (a whole graph with structure and features) cut by `node_part` (one
// part id per node, in [0, num_parts)) to `dir`, created if missing. Any
// partition.json already there is removed first, so a failed write never leaves
// a book over a mix of old and new parts. Returns the book written.
PartitionBook write_partition(const graph::Graph& g, std::span<const int32_t> node_part,
                              const std::filesystem::path& dir,
                              const PartitionWriteOptions& options);

}  // namespace edgegnn::partition
