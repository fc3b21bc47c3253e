// edgegnn's binary graph format: a directory holding manifest.json and one raw
// little-endian file per array (rowptr.i64, col.i32, features.f32, labels.i32,
// train_mask.u8, val_mask.u8, test_mask.u8).
//
// manifest.json carries a magic string, kFormatVersion, the counts, and for each
// array its file, dtype, element count, byte size and an FNV-1a 64 checksum.
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

}  // namespace edgegnn::graph
