// NeighborSampler: uniform neighbour sampling without replacement over a
// Graph's in-edge CSR, from a batch of seed nodes to one Block per layer (see
// block.h), as PyG's NeighborLoader and DGL's MultiLayerNeighborSampler do.
//
// fanouts[0] is for the seeds' neighbours, fanouts[1] for theirs, and so on
// (PyG's num_neighbors order); -1 takes all neighbours. Sampling is parallel over
// dst nodes; each node's draw is keyed on (seed, batch key, hop, node), so the
// result is identical whatever the thread count.
//
// The sampler borrows the graph's CSR: the Graph must outlive it. sample() is
// const and may be called from several threads at once.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "graph/graph.h"
#include "sample/block.h"

namespace edgegnn::sample {

// One hop's sampled in-neighbours of a list of nodes: those of node i are
// ids[rowptr[i] .. rowptr[i+1]), global ids.
struct SampledNeighbors {
  std::vector<int64_t> rowptr{0};
  std::vector<int32_t> ids;
};

// How make_block finds the block column of a global id it has seen.
enum class IdMap {
  kIdMapArray,  // an array over all num_nodes ids: fastest, 4 bytes per node per call
  kIdMapHash,   // a hash map over the block's ids: memory in the batch's size only
};

// pyg-lib's choice for a whole graph: the array below 1 M nodes, else the hash
// map, whose memory does not grow with the graph.
IdMap id_map_for(int64_t num_nodes);

// The block of `dst_ids` (distinct) given their sampled neighbours: dst first
// among the sources, then new ids in order of appearance (block.h).
// `num_nodes` bounds the ids.
Block make_block(std::span<const int32_t> dst_ids, const SampledNeighbors& neighbors,
                 int64_t num_nodes, IdMap id_map);

struct SamplerOptions {
  std::vector<int> fanouts = {25, 10};  // per hop from the seeds; -1 = all
  uint64_t seed = 0;
  int num_threads = 1;
};

class NeighborSampler {
 public:
  // `graph` is a whole graph, or a partition's part: rows for a contiguous
  // range of global ids (its global_ids), sources in the whole graph's id
  // space (num_sources()). A part is sampled with hash-mapped blocks, so
  // nothing per call grows with the nodes other parts own.
  NeighborSampler(const graph::Graph& graph, SamplerOptions options);

  // Samples the blocks of `seeds` (global ids, distinct). `batch_key` picks an
  // independent random stream per batch (e.g. epoch * 2^32 + batch index).
  Batch sample(std::span<const int32_t> seeds, uint64_t batch_key) const;

  // Hop `hop` (0 = the seeds' neighbours) of the batch with `batch_key`, for
  // `nodes` whose rows this graph holds: what sample() draws for them there.
  SampledNeighbors sample_neighbors(std::span<const int32_t> nodes, int hop,
                                    uint64_t batch_key) const;

  int num_layers() const { return static_cast<int>(options_.fanouts.size()); }
  const SamplerOptions& options() const { return options_; }
  int64_t num_nodes() const { return num_nodes_; }  // the id space of nodes and neighbours

 private:
  int64_t row(int32_t node) const { return node - first_id_; }

  std::span<const int64_t> rowptr_;
  std::span<const int32_t> col_;
  int64_t first_id_;  // global id of row 0
  int64_t num_nodes_;
  int64_t num_rows_;
  IdMap id_map_;
  SamplerOptions options_;
};

}  // namespace edgegnn::sample
