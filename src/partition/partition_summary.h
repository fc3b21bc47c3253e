// PartitionSummary: how good a partition is — edges cut, and per part its owned
// nodes, in-edges, training nodes, halo and bytes — as `edgegnn partition`
// prints it and partition.json records it.
//
// A part's halo is the set of nodes it does not own that are sources of its
// owned nodes' in-edges: what it must fetch from other parts to aggregate one
// hop. Balance of a quantity is max part / mean part (1 = perfectly even).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace edgegnn::partition {

struct PartStats {
  int64_t num_nodes = 0;         // owned nodes
  int64_t num_edges = 0;         // in-edges of the owned nodes
  int64_t num_remote_edges = 0;  // those whose source another part owns
  int64_t num_train = 0;         // owned training nodes
  int64_t num_halo = 0;          // distinct remote sources of those in-edges
  uint64_t bytes = 0;            // the part's directory on disk
};

struct PartitionSummary {
  // Undirected edges {u, v}, u != v (u -> v or v -> u stored), whose ends lie in
  // different parts: what METIS minimises.
  int64_t num_cut_edges = 0;
  int64_t num_undirected_edges = 0;  // all such {u, v}, for the cut's share
  // Stored in-edges whose source lies in another part than their target.
  int64_t num_cut_in_edges = 0;
  std::vector<PartStats> parts;

  double balance_nodes() const;
  double balance_edges() const;
  double balance_train() const;
};

// max / mean of `counts`; 1 when they are all 0 (nothing to balance).
double balance(const std::vector<int64_t>& counts);

// The table `edgegnn partition` prints: totals, balance, one row per part.
std::string format_partition_summary(const PartitionSummary& s);

}  // namespace edgegnn::partition
