#include "sample/neighbor_sampler.h"

#include <algorithm>
#include <array>
#include <unordered_map>

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
      first_id_(graph.num_nodes > 0 ? graph.global_id(0) : 0),
      num_nodes_(graph.num_sources()),
      num_rows_(graph.num_nodes),
      id_map_(num_nodes_ == num_rows_ ? id_map_for(num_nodes_) : IdMap::kIdMapHash),
      options_(std::move(options)) {
  check(num_rows_ == 0 || graph.global_id(num_rows_ - 1) == first_id_ + num_rows_ - 1,
        "{}: its rows are not one contiguous range of global ids (partition format 2 has them)",
        graph.name);
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
    block = make_block(frontier, sample_neighbors(frontier, static_cast<int>(hop), batch_key),
                       num_nodes_, id_map_);
    frontier = block.src_ids;
  }
  return batch;
}

SampledNeighbors NeighborSampler::sample_neighbors(std::span<const int32_t> nodes, int hop,
                                                   uint64_t batch_key) const {
  const int fanout = options_.fanouts.at(hop);
  const uint64_t stream_key = splitmix64(batch_key) ^ static_cast<uint64_t>(hop);
  const int64_t n = static_cast<int64_t>(nodes.size());
  SampledNeighbors out;
  out.rowptr.assign(n + 1, 0);
  for (int64_t i = 0; i < n; ++i) {
    const int32_t v = nodes[i];
    check(v >= 0 && v < num_nodes_, "seed node {} out of range [0, {})", v, num_nodes_);
    const int64_t r = row(v);
    check(r >= 0 && r < num_rows_, "node {} has no row in this graph", v);
    const int64_t degree = rowptr_[r + 1] - rowptr_[r];
    out.rowptr[i + 1] = out.rowptr[i] + (fanout < 0 ? degree : std::min<int64_t>(degree, fanout));
  }

  // Row by row; each row's draw depends only on (seed, stream, node). Rows go
  // in windows: first every pick of the window is drawn and its column entry
  // prefetched, then the entries are read, so that a window's cache misses
  // (one per pick, in a graph larger than the caches) overlap instead of
  // following one another.
  out.ids.resize(out.rowptr[n]);
  constexpr int64_t kWindow = 16;
  parallel_for(n, options_.num_threads, [&](int64_t begin, int64_t end, int) {
    std::vector<int64_t> picks, entries;  // entries: the window's picked column positions
    for (int64_t w = begin; w < end; w += kWindow) {
      const int64_t last = std::min(end, w + kWindow);
      std::array<bool, kWindow> whole{};
      entries.clear();
      for (int64_t i = w; i < last; ++i) {
        const int32_t v = nodes[i];
        const int64_t first = rowptr_[row(v)], degree = rowptr_[row(v) + 1] - first;
        const int64_t k = out.rowptr[i + 1] - out.rowptr[i];
        if (k == degree) {  // whole neighbourhood: one sequential read, no picks
          std::copy(col_.begin() + first, col_.begin() + first + k, out.ids.data() + out.rowptr[i]);
          whole[i - w] = true;
          continue;
        }
        KeyedRandom rng(options_.seed, stream_key, static_cast<uint64_t>(v));
        picks.resize(k);
        choose_without_replacement(degree, k, rng, picks.data());
        for (int64_t j = 0; j < k; ++j) {
          entries.push_back(first + picks[j]);
          __builtin_prefetch(col_.data() + first + picks[j]);
        }
      }
      size_t e = 0;
      for (int64_t i = w; i < last; ++i)
        if (!whole[i - w])
          for (int64_t p = out.rowptr[i]; p < out.rowptr[i + 1]; ++p)
            out.ids[p] = col_[entries[e++]];
    }
  });
  return out;
}

IdMap id_map_for(int64_t num_nodes) {
  return num_nodes < (int64_t{1} << 20) ? IdMap::kIdMapArray : IdMap::kIdMapHash;
}

Block make_block(std::span<const int32_t> dst_ids, const SampledNeighbors& neighbors,
                 int64_t num_nodes, IdMap id_map) {
  const int64_t num_dst = static_cast<int64_t>(dst_ids.size());
  check(static_cast<int64_t>(neighbors.rowptr.size()) == num_dst + 1,
        "sampled neighbours of {} nodes for a block of {}", neighbors.rowptr.size() - 1, num_dst);
  std::vector<int32_t> array;
  std::unordered_map<int32_t, int32_t> hash;
  if (id_map == IdMap::kIdMapArray) {
    array.assign(num_nodes, -1);
  } else {
    hash.reserve(dst_ids.size() + neighbors.ids.size());
  }
  // The block column of id v, -1 until assigned; references into an
  // unordered_map stay valid as it grows.
  auto local = [&](int32_t v) -> int32_t& {
    return id_map == IdMap::kIdMapArray ? array[v] : hash.try_emplace(v, -1).first->second;
  };

  Block block;
  block.dst_ids.assign(dst_ids.begin(), dst_ids.end());
  block.rowptr = neighbors.rowptr;
  // Relabel: dst first, then new sources in order of appearance.
  block.src_ids = block.dst_ids;
  for (int64_t i = 0; i < num_dst; ++i) {
    check(dst_ids[i] >= 0 && dst_ids[i] < num_nodes, "node {} out of range [0, {})", dst_ids[i],
          num_nodes);
    int32_t& id = local(dst_ids[i]);
    check(id < 0, "seed node {} appears twice in a batch", dst_ids[i]);
    id = static_cast<int32_t>(i);
  }
  block.col.resize(neighbors.ids.size());
  for (size_t e = 0; e < neighbors.ids.size(); ++e) {
    const int32_t v = neighbors.ids[e];
    check(v >= 0 && v < num_nodes, "neighbour {} out of range [0, {})", v, num_nodes);
    int32_t& id = local(v);
    if (id < 0) {
      id = static_cast<int32_t>(block.src_ids.size());
      block.src_ids.push_back(v);
    }
    block.col[e] = id;
  }
  return block;
}

}  // namespace edgegnn::sample
