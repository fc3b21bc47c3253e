// Reader for graphs given as a text edge list, as SNAP distributes them
// (com-*.ungraph.txt.gz, roadNet-*.txt.gz, ...):
//
//   # comment lines start with '#' (or '%', as KONECT's do); blank lines too
//   0	1
//   0 2 1.5 1262304000     further columns (a weight, a timestamp) are ignored
//
// One `src dst` pair a line, separated by spaces or tabs, CRLF or LF line ends,
// the file plain or gzip-compressed (see LineReader). Node ids are
// non-negative integers below 2^31 - 1, used as given: num_nodes is the largest
// id + 1, so row v of a features .npy is node v, and ids no line names are
// isolated nodes. (To add isolated nodes past the largest id, list a self-loop
// `v v`: it is dropped, but v counts.)
//
// The graph is stored undirected: every edge in both directions, duplicates
// and self-loops dropped. Features, labels and the split: structure_only.h.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "graph/dataset.h"
#include "graph/graph.h"
#include "graph/structure_only.h"

namespace edgegnn::graph {

// Parses edge-list text held in memory: the edges as listed (one direction,
// duplicates and self-loops kept) and num_nodes. Pure; errors name `source`
// and the line, e.g. "g.txt:7: node id 'x1' is not a non-negative integer",
// and a text without any edge is an error.
StructureEdges parse_edge_list(std::string_view text, const std::string& source);

// Reads the edge list at `path` and the node data beside it, within
// options.memory_budget_bytes.
Graph read_edge_list(const std::filesystem::path& path, const LoadOptions& options = {});

}  // namespace edgegnn::graph
