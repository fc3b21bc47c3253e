#include "train/distributed_sampler.h"

#include "core/error.h"

namespace edgegnn::train {

DistributedSampler::DistributedSampler(const PartView& view, sample::SamplerOptions options,
                                       comm::Communicator& comm)
    : view_(view), comm_(comm), local_(view.part, std::move(options)) {}

sample::Batch DistributedSampler::sample(std::span<const int32_t> seeds, uint64_t batch_key) const {
  const int me = comm_.rank(), size = comm_.size();
  const int num_hops = local_.num_layers();
  sample::Batch batch;
  batch.blocks.resize(num_hops);
  std::vector<int32_t> frontier(seeds.begin(), seeds.end());
  for (int hop = 0; hop < num_hops; ++hop) {
    // Ask each owner about its nodes of the frontier.
    std::vector<std::vector<int32_t>> asks(size);
    for (int32_t v : frontier) asks[view_.owner(v)].push_back(v);
    std::vector<int32_t> mine = std::move(asks[me]);
    asks[me].clear();
    const std::vector<std::vector<int32_t>> asked = comm_.alltoallv_lists(asks);
    // Answer each: the neighbour counts, then the neighbours.
    std::vector<std::vector<int32_t>> answers(size);
    for (int p = 0; p < size; ++p) {
      if (asked[p].empty()) continue;
      const sample::SampledNeighbors drawn = local_.sample_neighbors(asked[p], hop, batch_key);
      for (size_t i = 0; i + 1 < drawn.rowptr.size(); ++i)
        answers[p].push_back(static_cast<int32_t>(drawn.rowptr[i + 1] - drawn.rowptr[i]));
      answers[p].insert(answers[p].end(), drawn.ids.begin(), drawn.ids.end());
    }
    const std::vector<std::vector<int32_t>> answered = comm_.alltoallv_lists(answers);
    const sample::SampledNeighbors own = local_.sample_neighbors(mine, hop, batch_key);

    // Merge in frontier order: each owner's answers come in the order asked.
    struct Cursor {
      size_t node = 0;  // next node of this owner
      size_t id = 0;    // next neighbour id in its answer
    };
    std::vector<Cursor> cursors(size);
    for (int p = 0; p < size; ++p) {
      if (p != me) cursors[p].id = asks[p].size();
      check(p == me || answered[p].size() >= asks[p].size(),
            "rank {}: rank {} answered {} values for {} nodes", me, p, answered[p].size(),
            asks[p].size());
    }
    sample::SampledNeighbors merged;
    for (int32_t v : frontier) {
      const int p = view_.owner(v);
      Cursor& c = cursors[p];
      if (p == me) {
        merged.ids.insert(merged.ids.end(), own.ids.begin() + own.rowptr[c.node],
                          own.ids.begin() + own.rowptr[c.node + 1]);
      } else {
        const int32_t count = answered[p][c.node];
        check(count >= 0 && c.id + count <= answered[p].size(),
              "rank {}: rank {} answered a bad neighbour count", me, p);
        merged.ids.insert(merged.ids.end(), answered[p].begin() + c.id,
                          answered[p].begin() + c.id + count);
        c.id += count;
      }
      ++c.node;
      merged.rowptr.push_back(static_cast<int64_t>(merged.ids.size()));
    }
    sample::Block& block = batch.blocks[num_hops - 1 - hop];
    block = sample::make_block(frontier, merged, view_.num_nodes(), sample::IdMap::kIdMapHash);
    frontier = block.src_ids;
  }
  return batch;
}

}  // namespace edgegnn::train
