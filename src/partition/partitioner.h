// partition_nodes: assigns every node of a graph to one of `num_parts` parts.
//
//   metis   METIS k-way (Karypis & Kumar) on the symmetrised graph without
//           self-loops, with three weights per node — 1, its in-degree, 1 if it
//           is a training node — so parts balance nodes, in-edges and training
//           nodes at once, as DistDGL does. Few edges cross between parts.
//   random  a seeded shuffle cut into equal parts (sizes differ by at most 1):
//           the baseline METIS is measured against.
//   fennel  three streaming passes in node order (fennel_partition.h), each node
//           placed by its neighbours already placed and the parts' sizes;
//           O(nodes) memory where METIS needs several times the edges.
//
// All are repeatable: the same graph, method and seed give the same parts. With
// one part every node is in part 0 and METIS is not called.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace edgegnn::partition {

// Stored by name in partition.json; new methods go at the end.
enum class PartitionMethod { kMetis, kRandom, kFennel };

// "metis" | "random" | "fennel"; throws Error naming --method otherwise.
PartitionMethod parse_partition_method(const std::string& name);
const char* partition_method_name(PartitionMethod method);

struct PartitionOptions {
  int num_parts = 1;  // 1 <= num_parts <= num_nodes
  PartitionMethod method = PartitionMethod::kMetis;
  uint64_t seed = 0;    // METIS_OPTION_SEED, or the shuffle's seed; fennel has none
  int num_threads = 0;  // for building METIS's input; METIS itself is serial. 0 = all cores
};

// The part of every node: a vector of g.num_nodes ids in [0, num_parts). Needs
// g's structure and a whole graph (not a part). Throws Error on a bad part count
// or when METIS fails.
std::vector<int32_t> partition_nodes(const graph::Graph& g, const PartitionOptions& options);

}  // namespace edgegnn::partition
