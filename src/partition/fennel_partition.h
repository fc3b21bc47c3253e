// fennel_partition: a one-pass streaming partitioner, for graphs whose METIS
// input would not fit the partitioning machine's memory.
//
// Fennel (Tsourakakis, Gkantsidis, Radunovic & Vojnovic, WSDM 2014): nodes
// arrive in id order, each with its in-neighbours (all its neighbours in a
// symmetric graph), and each is placed in the part i that maximises
//   |N(v) ∩ P_i| - α·γ·|P_i|^(γ-1),   γ = 1.5, α = √k · m / n^1.5
// (m undirected edges, n nodes, k parts): neighbours already placed pull v in,
// the part's size pushes it out. As METIS balances nodes, in-edges and training
// nodes, each of the three is also capped at 1.1 × its mean per part; a node
// goes to the best part that has room for it in every one. The stream is read
// three times (restreaming, Nishimura & Ugander, KDD 2013): in the later
// passes each node leaves its part and is placed again, now by all of its
// neighbours' parts, which cuts products' 8 parts at 32 % of edges instead of
// one pass's 42 % (METIS: 28 %).
//
// State is the node → part array and k counters: O(n), not O(n + m). The CSR is
// read in order, and the pages of a memory-mapped one are handed back as
// the pass leaves them, so the resident set stays small whatever the edge count.
// Deterministic: ties go to the lower part id; there is no seed.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/graph.h"

namespace edgegnn::partition {

// The part of every node of g (a whole graph), in [0, num_parts).
// Needs 2 <= num_parts <= g.num_nodes.
std::vector<int32_t> fennel_partition(const graph::Graph& g, int num_parts);

}  // namespace edgegnn::partition
