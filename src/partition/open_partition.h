// open_partition: what one rank of a partition-parallel run loads — the
// partition book (a few numbers) and its own part, memory-mapped, never
// another part.
//
// It refuses, with one line naming the path, a directory that is no partition, a
// partition of another dataset than the caller's, a partition into another
// number of parts than the run has ranks, and a missing or foreign part
// directory (one whose global ids the book places elsewhere).
//
// A Partition owns its book and part (move-only); spans into them are valid
// while it lives.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "graph/binary_format.h"
#include "partition/partition_book.h"

namespace edgegnn::partition {

// What the caller knows of the dataset it means to train on; fields left at ""
// or -1 are not checked.
struct ExpectedDataset {
  std::string name;
  int64_t num_nodes = -1;
  int64_t num_edges = -1;
  int64_t num_features = -1;
};

struct PartitionOpenOptions {
  int part = 0;       // the part to open: this rank's
  int num_ranks = 0;  // ranks in the run, which must equal the part count; 0 = not checked
  ExpectedDataset expected;
  // Which of the part's arrays to map, and whether to verify their checksums.
  graph::OpenOptions graph;
};

struct Partition {
  int part = 0;
  PartitionBook book;
  // Rows are the owned nodes, global ids book.offsets[part] + row
  // (graph.global_ids); col holds global source ids; book.offsets say where
  // any node is.
  graph::Graph graph;

  size_t memory_bytes() const { return book.memory_bytes() + graph.memory_bytes(); }
};

Partition open_partition(const std::filesystem::path& dir, const PartitionOpenOptions& options);

// The whole graph's structure, labels and split masks, joined from every part
// (without features): what a machine holding the whole partition, such as a
// local launcher, samples real batches from to plan a run on the parts. Node
// ids are the partition's (global) ids.
graph::Graph join_parts(const std::filesystem::path& dir);

}  // namespace edgegnn::partition
