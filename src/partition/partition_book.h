// PartitionBook: which part owns each node of a partitioned graph and at which
// row, with what the partition was made of and its summary. It is the content
// of a partition directory's top level:
//
//   DIR/partition.json   magic "edgegnn-partition", kPartitionFormatVersion, the
//                        dataset's name and counts, num_parts, method, seed,
//                        `offsets` and the summary (partition_summary.h)
//   DIR/part-<k>/        part k, a binary-format graph (graph/binary_format.h)
//
// Nodes are relabelled when partitioned so that each part owns a contiguous
// range of ids (DistDGL's range partition book): part k owns the global ids
// [offsets[k], offsets[k+1]), and global id v of part k is its row
// v - offsets[k]. The book is then num_parts + 1 numbers, whatever the graph's
// size, where a per-node table would cost every rank 8 bytes per node of the
// whole graph. Version 1 kept such tables and is refused.
//
// partition.json is written to a temporary name and renamed, after the parts.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "partition/partition_summary.h"
#include "partition/partitioner.h"

namespace edgegnn::partition {

inline constexpr const char* kPartitionMagic = "edgegnn-partition";
inline constexpr int kPartitionFormatVersion = 2;

// The graph a partition was made of, to tell it from another.
struct DatasetCounts {
  std::string name;
  int64_t num_nodes = 0;
  int64_t num_edges = 0;  // directed, as stored
  int64_t num_features = 0;
  int32_t num_classes = 0;
};

struct PartitionBook {
  DatasetCounts dataset;
  int num_parts = 0;
  PartitionMethod method = PartitionMethod::kMetis;
  uint64_t seed = 0;
  // num_parts + 1 ascending ids from 0 to dataset.num_nodes: part k owns
  // [offsets[k], offsets[k+1]).
  std::vector<int64_t> offsets;
  PartitionSummary summary;

  size_t memory_bytes() const { return offsets.size() * sizeof(int64_t); }
};

// DIR/part-<k>.
std::filesystem::path part_directory(const std::filesystem::path& dir, int part);

// Writes partition.json into `dir` (which must exist).
void write_partition_book(const PartitionBook& book, const std::filesystem::path& dir);

// Reads DIR/partition.json; throws Error naming the file when `dir` holds no
// partition, another version (an older one: re-run `edgegnn partition`), or
// inconsistent offsets.
PartitionBook open_partition_book(const std::filesystem::path& dir);

}  // namespace edgegnn::partition
