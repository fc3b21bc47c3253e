// BatchLoader: one epoch of sampled mini-batches, produced ahead of the model
// on a background thread through a bounded queue, so sampling overlaps
// compute (as PyG's NeighborLoader with workers does).
//
// The epoch's seeds are shuffled with a stream keyed on (seed, epoch) and cut
// into batches of `batch_size` (the last may be smaller); batch b is sampled
// with batch key (epoch, b). So an epoch's batches depend only on the seed and
// the epoch, whatever the thread count, and a resumed run sees the same ones.
// Since a node's sampled neighbours are keyed on the node and the batch key,
// a rank's slice of a batch gets exactly the blocks it would get in the whole
// batch: data-parallel training samples what single-device training samples.
//
// next() is for one consumer thread. An error on the sampling thread is
// rethrown from next(). The destructor stops the producer and joins it
// (core/prefetch.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/prefetch.h"
#include "sample/neighbor_sampler.h"

namespace edgegnn::sample {

struct LoaderOptions {
  int64_t batch_size = 1024;
  int64_t epoch = 0;
  uint64_t shuffle_seed = 0;
  bool shuffle = true;
  int queue_depth = 2;  // batches sampled ahead (0: each in next()); each holds its blocks' ids
  // Data parallelism: each global batch is cut into num_ranks near-equal
  // slices and this loader yields slice `rank` of every batch.
  int rank = 0;
  int num_ranks = 1;
};

class BatchLoader {
 public:
  BatchLoader(const NeighborSampler& sampler, std::span<const int32_t> seeds,
              LoaderOptions options);

  // The next batch of the epoch, or nullopt after the last one.
  std::optional<Batch> next() { return batches_->next(); }
  int64_t num_batches() const { return num_batches_; }
  // Seconds the producer spent sampling so far.
  double sample_seconds() const { return sample_nanoseconds_.load() * 1e-9; }

 private:
  Batch make(int64_t b);

  const NeighborSampler& sampler_;
  std::vector<int32_t> order_;
  LoaderOptions options_;
  int64_t num_batches_;
  std::atomic<int64_t> sample_nanoseconds_{0};
  std::unique_ptr<Prefetcher<Batch>> batches_;  // last: its thread reads the rest
};

// `nodes` in the order drawn from the stream keyed on (seed, key): an
// epoch's order of its seeds.
void shuffle(std::vector<int32_t>& nodes, uint64_t seed, uint64_t key);

// The seeds of `mask` (nodes where mask[v] != 0), ascending.
std::vector<int32_t> mask_nodes(std::span<const uint8_t> mask);

}  // namespace edgegnn::sample
