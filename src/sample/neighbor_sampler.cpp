#include "sample/neighbor_sampler.h"

#include <algorithm>

#include "core/error.h"
#include "core/parallel.h"
#include "core/random.h"

namespace edgegnn::sample {
namespace {

// Writes `k` distinct indices of [0, d) to `out`, ascending (Floyd's algorithm:
// k draws, no O(d) scratch). The membership scan is O(k^2), cheap for the
// fanouts GNNs use (10-25).
void choose_without_replacement(int64_t d, int64_t k, KeyedRandom& rng, int64_t* out) {
  int64_t n = 0;
  for (int64_t j = d - k; j < d; ++j) {
    int64_t t = static_cast<int64_t>(rng.below(static_cast<uint64_t>(j + 1)));
    bool taken = std::find(out, out + n, t) != out + n;
    out[n++] = taken ? j : t;
  }
  std::sort(out, out + k);
}

}  // namespace

NeighborSampler::NeighborSampler(const graph::Graph& graph, SamplerOptions options)
    : rowptr_(graph.rowptr.span()),
      col_(graph.col.span()),
      num_nodes_(graph.num_nodes),
      options_(std::move(options)) {
  check(!options_.fanouts.empty(), "--fanouts: need one fanout per layer");
  for (int f : options_.fanouts)
    check(f == -1 || f > 0, "--fanouts: {} is not a positive count or -1 (all)", f);
  if (options_.num_threads <= 0) options_.num_threads = available_cores();
}

Batch NeighborSampler::sample(std::span<const int32_t> seeds, uint64_t batch_key) const {
  Batch batch;
  batch.blocks.resize(options_.fanouts.size());
  std::vector<int32_t> frontier(seeds.begin(), seeds.end());
  // Hops go outwards from the seeds; blocks are stored input layer first.
  for (size_t hop = 0; hop < options_.fanouts.size(); ++hop) {
    Block& block = batch.blocks[batch.blocks.size() - 1 - hop];
    block = sample_hop(frontier, options_.fanouts[hop], splitmix64(batch_key) ^ hop);
    frontier = block.src_ids;
  }
  return batch;
}

Block NeighborSampler::sample_hop(std::span<const int32_t> dst_ids, int fanout,
                                  uint64_t stream_key) const {
  const int64_t num_dst = static_cast<int64_t>(dst_ids.size());
  Block block;
  block.dst_ids.assign(dst_ids.begin(), dst_ids.end());
  block.rowptr.assign(num_dst + 1, 0);
  for (int64_t i = 0; i < num_dst; ++i) {
    const int32_t v = dst_ids[i];
    check(v >= 0 && v < num_nodes_, "seed node {} out of range [0, {})", v, num_nodes_);
    const int64_t degree = rowptr_[v + 1] - rowptr_[v];
    block.rowptr[i + 1] = block.rowptr[i] + (fanout < 0 ? degree : std::min<int64_t>(degree, fanout));
  }

  // Global ids of the sampled neighbours, row by row; each row's draw depends
  // only on (seed, stream, node).
  std::vector<int32_t> neighbor_ids(block.rowptr[num_dst]);
  parallel_for(num_dst, options_.num_threads, [&](int64_t begin, int64_t end, int) {
    std::vector<int64_t> picks;
    for (int64_t i = begin; i < end; ++i) {
      const int32_t v = dst_ids[i];
      const int64_t first = rowptr_[v], degree = rowptr_[v + 1] - first;
      const int64_t k = block.rowptr[i + 1] - block.rowptr[i];
      int32_t* out = neighbor_ids.data() + block.rowptr[i];
      if (k == degree) {  // whole neighbourhood
        std::copy(col_.begin() + first, col_.begin() + first + degree, out);
        continue;
      }
      KeyedRandom rng(options_.seed, stream_key, static_cast<uint64_t>(v));
      picks.resize(k);
      choose_without_replacement(degree, k, rng, picks.data());
      for (int64_t j = 0; j < k; ++j) out[j] = col_[first + picks[j]];
    }
  });

  // Relabel: dst first, then new sources in order of appearance.
  std::vector<int32_t> local(num_nodes_, -1);
  block.src_ids = block.dst_ids;
  for (int64_t i = 0; i < num_dst; ++i) {
    check(local[dst_ids[i]] < 0, "seed node {} appears twice in a batch", dst_ids[i]);
    local[dst_ids[i]] = static_cast<int32_t>(i);
  }
  block.col.resize(neighbor_ids.size());
  for (size_t e = 0; e < neighbor_ids.size(); ++e) {
    int32_t& id = local[neighbor_ids[e]];
    if (id < 0) {
      id = static_cast<int32_t>(block.src_ids.size());
      block.src_ids.push_back(neighbor_ids[e]);
    }
    block.col[e] = id;
  }
  return block;
}

}  // namespace edgegnn::sample
