// PartitionBook: which part owns each node of a partitioned graph and at which
// row, with what the partition was made of and its summary. It is the content
// of a partition directory's top level:
//
//   DIR/partition.json   magic "edgegnn-partition", kPartitionFormatVersion, the
//                        dataset's name and counts, num_parts, method, seed,
//                        each array's file, dtype, bytes and FNV-1a 64
//                        checksum, and the summary (partition_summary.h)
//   DIR/node_part.i32    part of each global node id
//   DIR/node_local.i32   row of each global node id within its part
//   DIR/part-<k>/        part k, a binary-format graph (graph/binary_format.h)
//
// The arrays follow the binary format's conventions: raw little-endian files,
// written to a temporary name and renamed (partition.json last), mapped
// read-only on open. For part k's graph p, node_part[p.global_ids[i]] == k and
// node_local[p.global_ids[i]] == i for every row i.
//
// A PartitionBook owns its arrays (mapped or in memory) and is move-only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "graph/buffer.h"
#include "partition/partition_summary.h"
#include "partition/partitioner.h"

namespace edgegnn::partition {

inline constexpr const char* kPartitionMagic = "edgegnn-partition";
inline constexpr int kPartitionFormatVersion = 1;

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
  graph::Buffer<int32_t> node_part;   // dataset.num_nodes entries in [0, num_parts)
  graph::Buffer<int32_t> node_local;  // dataset.num_nodes rows within the owner part
  PartitionSummary summary;

  PartitionBook() = default;
  PartitionBook(PartitionBook&&) noexcept = default;
  PartitionBook& operator=(PartitionBook&&) noexcept = default;

  size_t memory_bytes() const { return node_part.memory_bytes() + node_local.memory_bytes(); }
};

// DIR/part-<k>.
std::filesystem::path part_directory(const std::filesystem::path& dir, int part);

// Writes the book's arrays, then partition.json, into `dir` (which must exist).
void write_partition_book(const PartitionBook& book, const std::filesystem::path& dir);

// Opens DIR/partition.json and maps the arrays it lists; throws Error naming the
// file when `dir` holds no partition, another version, or inconsistent arrays.
PartitionBook open_partition_book(const std::filesystem::path& dir, bool verify_checksums = false);

}  // namespace edgegnn::partition
