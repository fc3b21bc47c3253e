// Reader for graphs in METIS's graph format (the METIS 5 manual, section 4.1.1),
// plain or gzip-compressed (see LineReader):
//
//   % comment lines start with '%'
//   n m [fmt [ncon]]          header: n vertices, m undirected edges
//   2 3                       line of vertex 1: its neighbours, ids from 1
//   1                         vertex 2
//   1                         vertex 3
//
// fmt is up to three 0/1 digits: 1 in the hundreds gives every vertex line a
// leading vertex size, in the tens ncon (default 1) vertex weights after it,
// in the ones an edge weight after each neighbour (001, 010, 011, 100, ...).
// Sizes and weights are parsed past and ignored: edgegnn trains on
// unweighted graphs.
//
// The checks: exactly n vertex lines (a blank line is a vertex without
// neighbours; blank lines after the last are ignored), neighbour ids in
// [1, n], 2m neighbour entries in all (METIS counts an edge once but lists it
// at both ends), and every edge listed at both ends. Vertex v of the file is
// node v - 1. Self-loops and duplicates are dropped; the graph is stored
// undirected, as listed. Features, labels and the split: structure_only.h.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "graph/dataset.h"
#include "graph/graph.h"
#include "graph/structure_only.h"

namespace edgegnn::graph {

// Parses METIS text held in memory: num_nodes = n, and one edge u -> v for
// each neighbour u on vertex v's line, in file order, ids from 0. Pure; errors
// name `source` and the line, e.g. "g.graph:4: vertex 3: neighbour 9 out of
// range [1, 5]". Does not check that edges are listed at both ends (the
// reader does, on the CSR), and a graph without edges is an error.
StructureEdges parse_metis_graph(std::string_view text, const std::string& source);

// Reads the METIS graph file at `path` and the node data beside it, within
// options.memory_budget_bytes.
Graph read_metis_graph(const std::filesystem::path& path, const LoadOptions& options = {});

}  // namespace edgegnn::graph
