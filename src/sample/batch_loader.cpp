#include "sample/batch_loader.h"

#include <chrono>

#include "core/error.h"
#include "core/random.h"

namespace edgegnn::sample {

BatchLoader::BatchLoader(const NeighborSampler& sampler, std::span<const int32_t> seeds,
                         LoaderOptions options)
    : sampler_(sampler), order_(seeds.begin(), seeds.end()), options_(options) {
  check(options_.batch_size > 0, "--batch-size: {} is not a positive batch size",
        options_.batch_size);
  check(options_.queue_depth >= 0, "batch queue depth must not be negative");
  check(options_.num_ranks >= 1 && options_.rank >= 0 && options_.rank < options_.num_ranks,
        "rank {} out of range for {} ranks", options_.rank, options_.num_ranks);
  if (options_.shuffle) shuffle(order_, options_.shuffle_seed, static_cast<uint64_t>(options_.epoch));
  num_batches_ = (static_cast<int64_t>(order_.size()) + options_.batch_size - 1) / options_.batch_size;
  batches_ = std::make_unique<Prefetcher<Batch>>(num_batches_, options_.queue_depth,
                                                 [this](int64_t b) { return make(b); });
}

Batch BatchLoader::make(int64_t b) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t begin = b * options_.batch_size;
  const int64_t size = std::min<int64_t>(options_.batch_size, order_.size() - begin);
  const int64_t first = begin + size * options_.rank / options_.num_ranks;
  const int64_t last = begin + size * (options_.rank + 1) / options_.num_ranks;
  Batch batch = sampler_.sample(std::span(order_).subspan(first, last - first),
                                (static_cast<uint64_t>(options_.epoch) << 32) | b);
  batch.index = b;
  batch.global_size = size;
  sample_nanoseconds_ += std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count();
  return batch;
}

void shuffle(std::vector<int32_t>& nodes, uint64_t seed, uint64_t key) {
  KeyedRandom rng(seed, /*key1=*/0x5eed5, key);
  for (size_t i = nodes.size(); i > 1; --i) std::swap(nodes[i - 1], nodes[rng.below(i)]);
}

std::vector<int32_t> mask_nodes(std::span<const uint8_t> mask) {
  std::vector<int32_t> nodes;
  for (size_t v = 0; v < mask.size(); ++v)
    if (mask[v]) nodes.push_back(static_cast<int32_t>(v));
  return nodes;
}

}  // namespace edgegnn::sample
