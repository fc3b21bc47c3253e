#include "train/partition_strategy.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/prefetch.h"
#include "sample/batch_loader.h"
#include "train/graph_tensors.h"
#include "train/plan_context.h"
#include "train/step.h"

namespace edgegnn::train {
namespace {

torch::Tensor int64_tensor(const std::vector<int64_t>& values) {
  return torch::tensor(values, torch::kInt64);
}

// Steps of epoch 0 (training counts epochs from 1) whose sampled inputs rank
// the remote rows to cache: 64 of 150 on Reddit (32 left ranks with room
// for more rows than they had seen drawn).
constexpr int64_t kCacheRankingSteps = 64;

// Step s of `num_steps` takes this [first, last) of `total` nodes.
std::pair<int64_t, int64_t> step_slice(int64_t total, int64_t s, int64_t num_steps) {
  return {total * s / num_steps, total * (s + 1) / num_steps};
}

uint64_t batch_key(int64_t epoch, int64_t step) {
  return (static_cast<uint64_t>(epoch) << 32) | static_cast<uint64_t>(step);
}

// A part's steps: slice s of every rank's shuffled training nodes, sampled
// across parts and with its input rows fetched from their owners. Every rank
// makes every step, in order, so the collectives inside line up. With a
// queue depth above 0 steps are made on a thread of their own over the
// loader's channel, that many ahead of the one computing.
//
// The first layer reads the fetcher's table in place, unless the model drops
// input features: dropout then gets the batch's own rows, as in every other
// strategy (a table's every row would be widened and dropped).
class PartBatches : public BatchSource {
 public:
  PartBatches(const PartView& view, const DistributedSampler& sampler, FeatureFetcher& fetcher,
              comm::Communicator& loader_comm, std::vector<int32_t> order,
              const std::vector<int64_t>& train_counts, int64_t num_steps, int64_t epoch, int depth,
              bool input_in_place, nn::Normalization normalization)
      : view_(view),
        sampler_(sampler),
        fetcher_(fetcher),
        loader_comm_(loader_comm),
        order_(std::move(order)),
        train_counts_(train_counts),
        num_steps_(num_steps),
        epoch_(epoch),
        ahead_(depth > 0),
        in_place_(input_in_place),
        normalization_(normalization),
        steps_(num_steps, depth, [this](int64_t s) { return make(s); }) {}

  int64_t num_steps() const override { return num_steps_; }
  double sample_seconds() const override { return sample_seconds_; }
  double transfer_seconds() const override { return transfer_seconds_; }

  std::optional<StepBatch> next() override {
    std::optional<StepBatch> step = steps_.next();
    // Made ahead, it cost this thread only the wait.
    if (step && ahead_) step->gather_seconds = 0;
    return step;
  }

 private:
  // Writes only its own members, before the step is handed over.
  StepBatch make(int64_t s) {
    StepBatch step;
    for (int64_t c : train_counts_) {
      const auto [first, last] = step_slice(c, s, num_steps_);
      step.global_size += last - first;
    }
    const auto [first, last] = step_slice(static_cast<int64_t>(order_.size()), s, num_steps_);

    const double busy = loader_comm_.busy_seconds();
    auto start = Clock::now();
    sample::Batch batch = sampler_.sample(std::span(order_).subspan(first, last - first),
                                          batch_key(epoch_, s));
    sample_seconds_ += seconds_since(start);
    start = Clock::now();
    FeatureFetcher::Gathered input = fetcher_.gather(batch.input_ids());
    std::vector<int64_t> seed_rows;
    for (int32_t v : batch.seed_ids()) seed_rows.push_back(view_.local_row(v));
    step.labels = torch::from_blob(const_cast<int32_t*>(view_.part.labels.data()),
                                   {view_.part.num_nodes}, torch::kInt32)
                      .index_select(0, int64_tensor(seed_rows))
                      .to(torch::kInt64);
    for (const auto& block : batch.blocks)
      step.graphs.push_back(
          nn::block_layer_graph(block, /*global_input=*/false, normalization_, view_.part));
    if (in_place_) {
      nn::relocate_input(step.graphs.front(), input.rows, normalization_);
      step.input = std::move(input.table);
    } else {
      step.input = input.table.rows(
          torch::tensor(std::vector<int64_t>(input.rows.begin(), input.rows.end())));
    }
    step.gather_seconds = seconds_since(start);
    transfer_seconds_ += loader_comm_.busy_seconds() - busy;
    return step;
  }

  const PartView& view_;
  const DistributedSampler& sampler_;
  FeatureFetcher& fetcher_;
  comm::Communicator& loader_comm_;
  const std::vector<int32_t> order_;
  const std::vector<int64_t>& train_counts_;
  const int64_t num_steps_, epoch_;
  const bool ahead_, in_place_;
  const nn::Normalization normalization_;
  double sample_seconds_ = 0, transfer_seconds_ = 0;
  Prefetcher<StepBatch> steps_;  // last: its thread uses the rest
};

// Own rows and halo of the part whose halo is the largest multiple of its own
// rows: it decides every rank's column blocks, since all fetch the same.
struct HaloShare {
  int64_t own = 1, halo = 0;
  void add(int64_t part_own, int64_t part_halo) {
    if (part_halo * own > halo * part_own) own = part_own, halo = part_halo;
  }
};

// Columns of a halo table sent in one round of all-to-alls.
constexpr int64_t kColumnsPerRound = 64;

// HaloRows::table_columns, for the planner too: a `width`-column table is
// fetched in blocks holding no more floats than the deciding part's own rows'
// whole table, at least 8 columns (each block is a round of all-to-alls) and
// at most a round's (one round of whole rows lands in the table in place).
int64_t eval_table_columns(const HaloShare& share, int64_t width) {
  if (share.halo <= share.own) return width;
  return std::min({width, kColumnsPerRound,
                   std::max<int64_t>(8, width * share.own / (share.own + share.halo))});
}

}  // namespace

HaloRows::HaloRows(const PartView& view, comm::Communicator& comm, nn::Normalization normalization)
    : view_(view), comm_(comm), self_loops_(normalization == nn::Normalization::kSelfLoops) {
  check(normalization != nn::Normalization::kGcn,
        "partition: GCN's normalisation needs every node's degree, which no part holds");
  const graph::Graph& part = view.part;
  const int me = comm.rank();
  first_id_ = view.offsets[me];
  for (int32_t v : part.col)
    if (view.owner(v) != me) halo_ids_.push_back(v);
  std::sort(halo_ids_.begin(), halo_ids_.end());
  halo_ids_.erase(std::unique(halo_ids_.begin(), halo_ids_.end()), halo_ids_.end());
  halo_ids_.shrink_to_fit();
  // Owners' ranges ascend, so the sorted halo is already grouped by owner.
  halo_.resize(comm.size());
  for (int32_t v : halo_ids_) halo_[view.owner(v)].push_back(v);
  for (const auto& ids : comm.alltoallv_lists(halo_)) {
    send_rows_.emplace_back();
    for (int32_t v : ids) send_rows_.back().push_back(view.local_row(v));
  }
  part_sizes_ = comm.all_gather({part.num_nodes, static_cast<int64_t>(halo_ids_.size())});
}

int32_t HaloRows::table_row(int32_t v) const {
  const int64_t own = v - first_id_;
  if (own >= 0 && own < view_.part.num_nodes) return static_cast<int32_t>(own);
  const auto it = std::lower_bound(halo_ids_.begin(), halo_ids_.end(), v);
  assert(it != halo_ids_.end() && *it == v);
  return static_cast<int32_t>(view_.part.num_nodes + (it - halo_ids_.begin()));
}

size_t HaloRows::memory_bytes() const {
  size_t bytes = halo_ids_.capacity() * sizeof(int32_t);
  for (const auto& ids : halo_) bytes += ids.capacity() * sizeof(int32_t);
  for (const auto& rows : send_rows_) bytes += rows.capacity() * sizeof(int64_t);
  return bytes;
}

nn::FeatureMatrix HaloRows::table(int, nn::FeatureMatrix own) {
  // Columns go in rounds, so the send and receive buffers hold a fraction
  // of the halo's rows (Reddit, 4 parts: 170 K rows x 256 floats in all).
  const torch::Tensor rows = own.widen();
  const int size = comm_.size();
  const int64_t own_rows = rows.size(0), width = rows.size(1);
  std::vector<int64_t> flat_rows;
  int64_t halo_size = 0;
  for (int p = 0; p < size; ++p) {
    flat_rows.insert(flat_rows.end(), send_rows_[p].begin(), send_rows_[p].end());
    halo_size += static_cast<int64_t>(halo_[p].size());
  }
  const torch::Tensor wanted = int64_tensor(flat_rows);
  torch::Tensor table = torch::empty({own_rows + halo_size, width});
  table.narrow(0, 0, own_rows).copy_(rows);
  for (int64_t first = 0; first < width; first += kColumnsPerRound) {
    const int64_t columns = std::min(kColumnsPerRound, width - first);
    std::vector<int64_t> send_counts(size), recv_counts(size);
    for (int p = 0; p < size; ++p) {
      send_counts[p] = static_cast<int64_t>(send_rows_[p].size()) * columns;
      recv_counts[p] = static_cast<int64_t>(halo_[p].size()) * columns;
    }
    torch::Tensor send = rows.narrow(1, first, columns).index_select(0, wanted).contiguous();
    // A round of whole rows (a narrow table, or a column block's) lands in
    // the table itself, where the halo's rows lie one after another.
    const bool whole_rows = columns == width;
    torch::Tensor received = whole_rows ? table.narrow(0, own_rows, halo_size)
                                        : torch::empty({halo_size, columns});
    comm_.alltoallv<float>(std::span<const float>(send.data_ptr<float>(), send.numel()),
                           send_counts,
                           std::span<float>(received.data_ptr<float>(), received.numel()),
                           recv_counts);
    if (!whole_rows) table.narrow(0, own_rows, halo_size).narrow(1, first, columns).copy_(received);
  }
  return table;
}

int64_t HaloRows::table_columns(int, int64_t width) const {
  HaloShare share;
  for (const auto& sizes : part_sizes_) share.add(sizes[0], sizes[1]);
  return eval_table_columns(share, width);
}

nn::LayerGraph HaloRows::chunk(int, int64_t begin, int64_t end) {
  const graph::Graph& part = view_.part;
  const int64_t edge_begin = part.rowptr[begin], edge_end = part.rowptr[end];
  std::vector<int64_t> rowptr{0};
  std::vector<int32_t> col;
  col.reserve(edge_end - edge_begin + (self_loops_ ? end - begin : 0));
  for (int64_t r = begin; r < end; ++r) {
    for (int64_t e = part.rowptr[r]; e < part.rowptr[r + 1]; ++e) {
      const int32_t row = table_row(part.col[e]);
      if (!self_loops_ || row != r) col.push_back(row);
    }
    if (self_loops_) col.push_back(static_cast<int32_t>(r));  // as nn/layer_graph.h
    rowptr.push_back(static_cast<int64_t>(col.size()));
  }
  nn::LayerGraph g;
  g.adjacency = {int64_tensor(rowptr), torch::tensor(col, torch::kInt32), torch::Tensor()};
  g.num_dst = end - begin;
  g.dst_begin = begin;
  return g;
}

std::unique_ptr<Strategy> PartitionStrategy::make(const StrategyInputs& in) {
  return std::make_unique<PartitionStrategy>(*in.part, in.state, in.options, *in.comm);
}

std::vector<RankPlan> PartitionStrategy::estimate(const PlanContext& c, std::string& note) {
  const TrainOptions& o = c.options;
  const Dims& dims = c.dims;
  const int n = c.request.devices;
  const int64_t num_train = c.graph.num_train;
  if (n < 2) {
    note = "needs 2 or more devices";
    return {};
  }
  const auto& summary = c.request.partition;
  if (summary && static_cast<int>(summary->parts.size()) != n) {
    note = fmt::format("the partition has {} parts, not {}", summary->parts.size(), n);
    return {};
  }
  HaloShare halo_share;
  if (summary)
    for (const auto& part : summary->parts) halo_share.add(part.num_nodes, part.num_halo);
  else
    halo_share.add((c.graph.num_nodes + n - 1) / n, c.halo_estimate);
  std::vector<RankPlan> ranks;
  for (int k = 0; k < n; ++k) {
    partition::PartStats part;
    if (summary) {
      part = summary->parts[k];
    } else {
      part.num_nodes = (c.graph.num_nodes + n - 1) / n;
      part.num_edges = (c.graph.num_edges + n - 1) / n;
      part.num_remote_edges = part.num_edges * (n - 1) / n;
      part.num_train = (num_train + n - 1) / n;
      part.num_halo = c.halo_estimate;
    }
    const double share = num_train > 0 ? double(part.num_train) / num_train : 1.0 / n;
    const double remote = part.num_edges > 0 ? double(part.num_remote_edges) / part.num_edges : 0;
    const BatchShape s = scaled(c.shape, share);
    // The rank's own batch of share x batch seeds: sampled at batch / n seeds,
    // it has more inputs than the whole batch's share (GAT's messages of every
    // source grow with them).
    const BatchShape work = scaled(c.device_shape, share * n);
    RankPlan p;
    p.rank = k;
    p.roles = "part " + std::to_string(k);
    MemoryParts& m = p.memory;
    m.baseline = kProcessBaseline + kBackendBaseline;
    // Own CSR and global ids, the book's offsets, and the halo's ids (sorted
    // and per owner) with the rows others ask for (about as many, int64).
    m.structure = c.structure_bytes(part.num_nodes, part.num_edges) + part.num_nodes * 4 +
                  (n + 1) * 8 + part.num_halo * (4 + 4 + 8);
    const int64_t row = std::max<int64_t>(1, c.row_bytes());
    // The cache is held while training only, and its ranking beside it.
    const int64_t cache_rows = std::min(o.levers.feature_cache_bytes / row, part.num_halo);
    const int64_t cache = cache_rows * (row + 4);
    m.features = c.feature_bytes(part.num_nodes);
    m.labels = c.label_bytes(part.num_nodes);

    // An input node L hops from a seed is remote unless every hop stayed in
    // the part: a 2-layer batch fetches far more than the edge cut.
    const double fetched =
        s.src[0] * (1 - std::pow(1 - remote, static_cast<double>(s.src.size())));
    // Caching a share of the halo, the most often drawn first, saves more
    // than that share of fetches: share^0.4 fits synthetic-reddit's measured
    // curve (10 % of the rows save 45 %, 40 % save 80 %) from below.
    const double cached_share = part.num_halo > 0 ? double(cache_rows) / part.num_halo : 0;
    const double fetched_uncached = fetched * (1 - std::pow(cached_share, 0.4));
    // Layer 1 reads the part's rows, the cache's and the fetched ones where
    // they lie, so a step holds its fetched rows (and those made ahead
    // theirs), the rows others asked for (about as many) go out of a buffer,
    // and the root term widens the dst rows. Input dropout gets the batch's
    // rows widened instead. The first steps, with the cache still filling,
    // fetch as if there were none.
    const int64_t buffers = 2 + o.levers.sampler_queue_depth;
    const bool gathers_sources = o.model.input_dropout > 0 || dims.heads_of(0) > 0;
    const int64_t widened = gathers_sources ? bytes(s.src[0], dims.in[0] * kFloat)
                                            : bytes(s.dst[0], dims.in[0] * kFloat);
    const int64_t training_comm =
        std::max(buffers * bytes(fetched_uncached, row) + cache, buffers * bytes(fetched, row)) +
        widened + 2 * c.model_bytes;
    const int64_t own = part.num_nodes, with_halo = own + part.num_halo;
    // Evaluation per layer: the layer's input held (or only its root terms,
    // where the layer before projected it), the table of own and halo rows
    // (or messages), and beside it first the own rows it was filled from,
    // then the output and a chunk's temporaries, whose columns are remapped
    // into a vector and copied into a tensor. A table fetched in column
    // blocks is one block, its own rows' columns and the aggregation of all
    // own rows, with every chunk's graph built once.
    const double part_degree = own > 0 ? double(part.num_edges) / own : 0;
    const int64_t chunk = std::min(o.levers.eval_chunk_nodes, own);
    // As the evaluator: layer l gets its messages and root terms from the
    // layer before, not its input rows, where those are at most half as wide.
    auto takes_projected_input = [&](int l) {
      return dims.heads_of(l) > 0 || 2 * dims.out[l] < dims.in[l];
    };
    int64_t eval = 0;
    for (int l = 0; l < o.model.num_layers; ++l) {
      // Attention's messages carry two scores per head, its chunks alpha per edge and head.
      const int64_t width = dims.heads_of(l) > 0       ? dims.out[l] + 2 * dims.heads_of(l)
                            : dims.out[l] < dims.in[l] ? dims.out[l]
                                                       : dims.in[l];
      const int64_t held = l == 0                 ? 0
                           : takes_projected_input(l) ? own * dims.out[l]
                                                      : own * dims.in[l];
      const int64_t block = dims.heads_of(l) > 0 ? width : eval_table_columns(halo_share, width);
      const int64_t table =
          block < width ? (with_halo + own) * block + own * width : with_halo * width;
      const int64_t graphs =
          block < width ? part.num_edges * int64_t{sizeof(int32_t)} + own * int64_t{sizeof(int64_t)}
                        : 0;
      // The output, or the next layer's messages and root terms.
      const int64_t output = l + 1 < o.model.num_layers && takes_projected_input(l + 1)
                                 ? own * 2 * dims.out[l + 1]
                                 : own * dims.out[l];
      const int64_t filling = own * width * kFloat;
      const int64_t computing =
          output * kFloat + chunk_bytes(chunk, width, dims.out[l], part_degree, c.edge_bytes + 4);
      eval = std::max(eval, (held + table) * kFloat + graphs + std::max(filling, computing));
    }
    set_peak_phase(m,
                   {(1 + o.levers.sampler_queue_depth) * batch_bytes(s),
                    // Layer 1 reads its input where the fetcher left it, as
                    // from a global matrix (with input dropout, the widened
                    // rows above stand for the gathered input).
                    training_bytes(work, dims, 0, o.model.num_layers, true), training_comm},
                   {0, eval, 2 * c.model_bytes});
    m.model = c.model_memory();
    // Rows it serves others, as many as it fetches when parts are alike;
    // node ids of the distributed sampler's two exchanges per hop.
    double ids = 0;
    for (size_t l = 0; l < s.src.size(); ++l) ids += 2 * (s.dst[l] * remote + s.edges[l] * remote);
    // The cache fills again after each evaluation, from steps' fetches: at
    // most each of its rows once.
    p.bytes_sent_per_epoch = c.steps * (bytes(fetched_uncached, row) + bytes(ids, 4)) +
                             cache_rows * row + c.allreduce_bytes_per_epoch(n);
    // The loader samples and fetches ahead of the step on its own channel,
    // but on emulated boards that hides little of the transfer (bench/run-all
    // --emulate: reddit's epoch is compute plus the link's time, as if none
    // were hidden): counted as waited for, with the gradients' allreduce.
    p.step = layer_work(work, dims, o.model.kind, 0, o.model.num_layers);
    for (double e : work.edges) p.step.sampled_edges += e;
    p.step.sent_bytes = bytes(fetched_uncached, row) + bytes(ids, 4) +
                        double(c.allreduce_bytes_per_epoch(n)) / std::max<int64_t>(1, c.steps);
    ranks.push_back(p);
  }
  note = summary ? "parts from the partition's summary"
                 : "parts estimated as even shares with a random cut's halo (give --partition "
                   "DIR for the real parts)";
  if (o.levers.feature_cache_bytes == 0) note += "; bytes without a feature cache";
  return ranks;
}

PartitionStrategy::PartitionStrategy(const PartView& view, TrainingState& state,
                                     const TrainOptions& options, comm::Communicator& comm)
    : Strategy(state, options, &comm),
      view_(view),
      loader_comm_(options.levers.sampler_queue_depth > 0 ? comm.open_channel() : comm),
      sampler_(view, sample::SamplerOptions{options.fanouts, options.seed, options.threads},
               loader_comm_),
      // A step computing and those made ahead hold the fetcher's buffers.
      fetcher_(view, loader_comm_, options.levers.sampler_queue_depth + 1),
      buckets_(state.model->parameters(), options.gradient_bucket_bytes, comm),
      eval_rows_(view, comm, state.model->normalization()) {
  const graph::Graph& part = view.part;
  for (int64_t r = 0; r < part.num_nodes; ++r)
    if (part.train_mask[r]) train_nodes_.push_back(view.global_ids[r]);
  for (const auto& theirs : comm.all_gather({static_cast<int64_t>(train_nodes_.size())}))
    train_counts_.push_back(theirs.at(0));
  const int64_t total = std::accumulate(train_counts_.begin(), train_counts_.end(), int64_t{0});
  check(total > 0, "{}: no training nodes in any part", part.name);
  steps_per_epoch_ = (total + options.batch_size - 1) / options.batch_size;
  const int64_t cache_bytes = options.levers.feature_cache_bytes;
  if (cache_bytes > 0) cache_ranking_ = rank_remote_inputs(cache_bytes / fetcher_.row_bytes());
}

std::vector<int32_t> PartitionStrategy::epoch_order(int64_t epoch) const {
  std::vector<int32_t> order = train_nodes_;
  sample::shuffle(order, options_.seed, static_cast<uint64_t>(epoch) << 16 | rank());
  return order;
}

std::vector<int32_t> PartitionStrategy::rank_remote_inputs(int64_t capacity) const {
  const std::vector<int32_t> order = epoch_order(0);
  // Times each remote node is drawn, in even steps and in odd ones.
  std::unordered_map<int32_t, int32_t> drawn[2];
  const int64_t steps = std::min(kCacheRankingSteps, steps_per_epoch_);
  for (int64_t s = 0; s < steps; ++s) {
    const auto [first, last] = step_slice(static_cast<int64_t>(order.size()), s, steps_per_epoch_);
    const sample::Batch batch =
        sampler_.sample(std::span(order).subspan(first, last - first), batch_key(0, s));
    for (int32_t v : batch.input_ids())
      if (view_.owner(v) != rank()) ++drawn[s % 2][v];
  }
  // The `capacity` nodes drawn most, each count times its owner's weight.
  auto most_wanted = [&](const std::unordered_map<int32_t, int32_t>& counts,
                         const std::vector<double>& weight) {
    std::vector<std::pair<double, int32_t>> ranked;  // (-weighted count, node): most first
    ranked.reserve(counts.size());
    for (auto [v, times] : counts) ranked.emplace_back(-times * weight[view_.owner(v)], v);
    const auto keep = std::min<size_t>(ranked.size(), static_cast<size_t>(capacity));
    std::partial_sort(ranked.begin(), ranked.begin() + keep, ranked.end());
    std::vector<int32_t> nodes;
    for (size_t i = 0; i < keep; ++i) nodes.push_back(ranked[i].second);
    return nodes;
  };
  // The epoch waits for the rank that sends most, and METIS balances nodes,
  // not how often others draw them (Reddit, 4 parts: the busiest rank sent
  // 1.5x the least busy one's bytes). So each owner's rows weigh by the
  // draws that caches miss on it over the mean, measured on odd steps with
  // caches ranked on even ones.
  const int size = comm_->size();
  const std::vector<double> even(size, 1.0);
  std::unordered_set<int32_t> held;
  for (int32_t v : most_wanted(drawn[0], even)) held.insert(v);
  std::vector<int64_t> missed(size);
  for (auto [v, times] : drawn[1])
    if (!held.contains(v)) missed[view_.owner(v)] += times;
  missed = comm_->sum_over_ranks(missed);
  const double mean = std::accumulate(missed.begin(), missed.end(), 0.0) / size;
  std::vector<double> weight(size, 1.0);
  if (mean > 0)
    for (int p = 0; p < size; ++p) weight[p] = double(missed[p]) / mean;
  for (auto [v, times] : drawn[1]) drawn[0][v] += times;
  return most_wanted(drawn[0], weight);
}

EpochStats PartitionStrategy::run_epoch(int64_t epoch, runtime::Progress& progress) {
  // The cache is left out of evaluation's peak, and fills again after it.
  const int64_t cache_bytes = options_.levers.feature_cache_bytes;
  if (cache_bytes > 0 && !fetcher_.has_cache()) fetcher_.reserve_cache(cache_ranking_, cache_bytes);
  EpochStats stats;
  {
    PartBatches source(view_, sampler_, fetcher_, loader_comm_, epoch_order(epoch), train_counts_,
                       steps_per_epoch_, epoch, options_.levers.sampler_queue_depth,
                       /*input_in_place=*/options_.model.input_dropout == 0,
                       state_.model->normalization());
    progress.start_epoch(epoch, options_.epochs, steps_per_epoch_);
    stats = run_minibatch_epoch(source, state_, epoch, progress, [this] { buckets_.finish(); },
                                comm_);
  }
  fetcher_.release_buffers();
  if (options_.evaluates_after(epoch)) fetcher_.release_cache();
  return stats;
}

nn::FeatureMatrix PartitionStrategy::eval_features() const { return borrow_features(view_.part); }

}  // namespace edgegnn::train
