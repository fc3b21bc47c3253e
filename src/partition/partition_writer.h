// write_partition: cuts a graph into the parts a partition_nodes() result names
// and writes a partition directory (layout in partition_book.h).
//
// Nodes get new global ids (range_ids below), so part k owns the contiguous
// range [offsets[k], offsets[k+1]). Part k is an ordinary binary-format graph
// whose rows are the nodes k owns, in ascending id order: their in-edges with
// new global source ids, ascending (num_source_nodes = the whole graph's node
// count), features, labels, split masks and global_ids (offsets[k] + row).
// Example, the path 0 - 1 - 2 with node_part {1, 0, 0}: new ids {2, 0, 1},
// offsets {0, 2, 3}
//   part-0: global_ids {0, 1}, rowptr {0, 2, 3}, col {1, 2, 0}, halo {2}
//   part-1: global_ids {2},    rowptr {0, 1},    col {0},       halo {0}
//   one undirected edge cut (0 - 1 before relabelling), two in-edges cut.
//
// The original ids are not stored: nothing reads them (training, evaluation
// and checkpoints do not depend on how nodes are numbered), and range_ids
// recomputes them from node_part, which the method and seed repeat.
//
// Parts are built and written one at a time, so memory stays near the graph
// plus its largest part.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <vector>

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

// The new global id of every node under `node_part` (ids in [0, num_parts)):
// part 0's nodes first, then part 1's, ..., each part's in ascending original id.
std::vector<int32_t> range_ids(std::span<const int32_t> node_part, int num_parts);

// Writes g (a whole graph with structure and features) cut by `node_part` (one
// part id per node, in [0, num_parts)) to `dir`, created if missing. Any
// partition.json already there is removed first, so a failed write never leaves
// a book over a mix of old and new parts. Returns the book written.
PartitionBook write_partition(const graph::Graph& g, std::span<const int32_t> node_part,
                              const std::filesystem::path& dir,
                              const PartitionWriteOptions& options);

}  // namespace edgegnn::partition
