// edgegnn's binary graph format: a directory holding manifest.json and one raw
// little-endian file per array (rowptr.i64, col.i32, features.f32, labels.i32,
// train_mask.u8, val_mask.u8, test_mask.u8, and for a part of a partitioned
// graph global_ids.i32).
//
// manifest.json carries a magic string, kFormatVersion, the counts, and for each
// array its file, dtype, byte size and an FNV-1a 64 checksum. A part also records
// num_source_nodes (the whole graph's node count); both it and global_ids are
// optional keys, so directories written before parts existed still open.
// Opening maps the arrays read-only (no copy; pages load on first touch) and
// checks sizes; checksums are verified only when asked, since that reads every
// byte of a multi-gigabyte graph.
#pragma once

#include <filesystem>

#include "graph/graph.h"

namespace edgegnn::graph {

inline constexpr const char* kFormatMagic = "edgegnn-graph";
inline constexpr int kFormatVersion = 1;

// Writes `graph` to `dir` (created if missing). Each file is written to a
// temporary name and renamed, the manifest last, so a crash never leaves a
// manifest pointing at half-written arrays.
void write_binary_graph(const Graph& graph, const std::filesystem::path& dir);

struct OpenOptions {
  bool verify_checksums = false;  // read every byte and compare with the manifest
  GraphParts parts;               // arrays left out are neither mapped nor read
};

Graph open_binary_graph(const std::filesystem::path& dir, const OpenOptions& options = {});

// The raw-array conventions above, for other formats built on them (the
// partition book).

// FNV-1a 64 of `size` bytes at `data`, as 16 lowercase hex digits.
std::string fnv1a64_hex(const void* data, size_t size);

// Writes `size` bytes to a temporary name beside `path` and renames it to `path`.
void write_file_atomically(const std::filesystem::path& path, const void* data, size_t size);

// `file`, the file array `array` of `manifest` names, when it is a plain name
// in the manifest's directory; throws Error naming the manifest and the array
// otherwise. A manifest must not reach outside its directory ("../x", "/x"):
// opening a graph would then map files the directory does not hold.
std::string checked_array_file(std::string file, const std::filesystem::path& manifest,
                               const std::string& array);

// Maps `file` read-only as an array of T; throws Error naming the file unless it
// holds exactly `expected_bytes`. Defined for int64_t, int32_t, float and uint8_t.
template <typename T>
Buffer<T> map_array(const std::filesystem::path& file, size_t expected_bytes);

}  // namespace edgegnn::graph
