// symmetric_adjacency: the undirected graph under a Graph's directed in-edges,
// as METIS wants it: u and v are neighbours when u -> v or v -> u is an edge,
// each neighbour listed once, no self-loops.
//
// Example, directed edges 0 -> 1, 1 -> 0, 2 -> 1, 2 -> 2 (in-edge CSR rowptr
// {0, 1, 3, 4}, col {1, 0, 2, 2}):
//   rowptr {0, 1, 3, 4}, col {1, 0, 2, 1}
// i.e. 0: {1}, 1: {0, 2}, 2: {1}.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "graph/graph.h"

namespace edgegnn::partition {

struct SymmetricAdjacency {
  std::vector<int64_t> rowptr;  // num_nodes + 1 offsets into col
  std::vector<int32_t> col;     // neighbours of each node, ascending
};

// Needs a whole graph with structure whose rows are sorted ascending and unique
// (as every reader makes them); throws Error otherwise. Parallel over nodes.
SymmetricAdjacency symmetric_adjacency(const graph::Graph& g, int num_threads);

struct UndirectedCut {
  int64_t num_edges = 0;  // undirected edges {u, v}, u != v
  int64_t num_cut = 0;    // those whose ends lie in different parts
};

// Counts the edges of g's symmetrised graph and those `node_part` cuts, from the
// same merge without storing its result (only g's out-edges are built). Same
// requirements as symmetric_adjacency.
UndirectedCut count_undirected_cut(const graph::Graph& g, std::span<const int32_t> node_part,
                                   int num_threads);

}  // namespace edgegnn::partition
