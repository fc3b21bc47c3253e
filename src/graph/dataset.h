// load_dataset: one front door from a dataset name (as on the command line) to a
// validated Graph.
//
//   cora | citeseer | pubmed   Planetoid ind.<name>.* files in `root`
//   reddit                     PyG's reddit_data.npz + reddit_graph.npz in `root`
//   npz                        a gnn-benchmark .npz file at `root`
//   edgegnn                    edgegnn's binary directory at `root` (mmap)
//   edgelist                   a text edge list (SNAP's, plain or gzip) at `root`
//   metis                      a METIS graph file at `root`
//   synthetic-<preset>         generated in memory (reddit, reddit-mini, products, tiny)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace edgegnn::graph {

struct LoadOptions {
  uint64_t seed = 0;  // for generated data and for splits a format does not give
  int num_threads = 0;  // 0 = the cores available
  // The arrays to keep: the binary format maps only these; other formats load
  // everything and then free the rest.
  GraphParts parts;
  // What the text graph readers (edgelist, metis) may fill: they stop with an
  // Error once the graph read so far needs more. 0 = the memory this machine
  // has available (MemAvailable in /proc/meminfo).
  int64_t memory_budget_bytes = 0;
};

// [out] `warnings`, when given, receives what is wrong with the data but does
// not stop loading, one message a line for the caller to print, e.g.
//   "cora: 3 non-finite feature values (NaN or inf)".
// Looking costs a read of the whole feature matrix (parallel over
// options.num_threads), so it is done only when asked.
Graph load_dataset(const std::string& name, const std::string& root,
                   const LoadOptions& options = {}, std::vector<std::string>* warnings = nullptr);

// The Planetoid dataset names (also the default `root` subfolder name).
bool is_planetoid_name(const std::string& name);

}  // namespace edgegnn::graph
