// DistributedSampler: neighbour sampling of a batch whose nodes live on
// several ranks, each holding the in-edges of its own part. Hop by hop in
// lock-step: a rank samples the frontier nodes it owns itself, sends the ids
// of the others to their owners with one alltoallv, and they sample and
// answer with another. Since each node's draw is keyed on (seed, batch key,
// hop, node), the blocks are exactly what NeighborSampler gives on the whole
// graph, numbered as the partition numbers it, for the same seeds.
//
// A collective: every rank calls sample() for every batch, in the same order,
// each with its own seeds (possibly none).
#pragma once

#include <span>

#include "comm/communicator.h"
#include "sample/neighbor_sampler.h"
#include "train/part_view.h"

namespace edgegnn::train {

class DistributedSampler {
 public:
  // Borrows all three; they must outlive the sampler.
  DistributedSampler(const PartView& view, sample::SamplerOptions options,
                     comm::Communicator& comm);

  sample::Batch sample(std::span<const int32_t> seeds, uint64_t batch_key) const;

 private:
  const PartView& view_;
  comm::Communicator& comm_;
  sample::NeighborSampler local_;
};

}  // namespace edgegnn::train
