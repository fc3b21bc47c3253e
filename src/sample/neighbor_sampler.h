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

struct SamplerOptions {
  std::vector<int> fanouts = {25, 10};  // per hop from the seeds; -1 = all
  uint64_t seed = 0;
  int num_threads = 1;
};

class NeighborSampler {
 public:
  NeighborSampler(const graph::Graph& graph, SamplerOptions options);

  // Samples the blocks of `seeds` (global ids, distinct). `batch_key` picks an
  // independent random stream per batch (e.g. epoch * 2^32 + batch index).
  Batch sample(std::span<const int32_t> seeds, uint64_t batch_key) const;

  int num_layers() const { return static_cast<int>(options_.fanouts.size()); }
  const SamplerOptions& options() const { return options_; }

 private:
  Block sample_hop(std::span<const int32_t> dst_ids, int fanout, uint64_t stream_key) const;

  std::span<const int64_t> rowptr_;
  std::span<const int32_t> col_;
  int64_t num_nodes_;
  SamplerOptions options_;
};

}  // namespace edgegnn::sample
