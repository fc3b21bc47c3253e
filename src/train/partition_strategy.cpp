#include "train/partition_strategy.h"

#include <numeric>

#include "core/clock.h"
#include "core/error.h"
#include "sample/batch_loader.h"
#include "train/graph_tensors.h"
#include "train/step.h"

namespace edgegnn::train {
namespace {

torch::Tensor int64_tensor(const std::vector<int64_t>& values) {
  return torch::tensor(values, torch::kInt64);
}

// A part's steps: slice s of every rank's shuffled training nodes, sampled
// across parts and with its input rows fetched from their owners. Every rank
// takes every step, so the collectives inside line up.
class PartBatches : public BatchSource {
 public:
  PartBatches(const PartView& view, const DistributedSampler& sampler, FeatureFetcher& fetcher,
              std::vector<int32_t> order, const std::vector<int64_t>& train_counts,
              int64_t num_steps, int64_t epoch)
      : view_(view), sampler_(sampler), fetcher_(fetcher), order_(std::move(order)),
        train_counts_(train_counts), num_steps_(num_steps), epoch_(epoch) {}

  int64_t num_steps() const override { return num_steps_; }
  double sample_seconds() const override { return sample_seconds_; }

  std::optional<StepBatch> next() override {
    if (step_ == num_steps_) return std::nullopt;
    const int64_t s = step_++;
    auto slice = [&](int64_t total) {
      return std::pair{total * s / num_steps_, total * (s + 1) / num_steps_};
    };
    StepBatch step;
    for (int64_t c : train_counts_) step.global_size += slice(c).second - slice(c).first;
    const auto [first, last] = slice(static_cast<int64_t>(order_.size()));

    auto start = Clock::now();
    sample::Batch batch = sampler_.sample(std::span(order_).subspan(first, last - first),
                                          (static_cast<uint64_t>(epoch_) << 32) | s);
    sample_seconds_ += seconds_since(start);
    start = Clock::now();
    step.input = fetcher_.gather(batch.input_ids());
    std::vector<int64_t> seed_rows;
    for (int32_t v : batch.seed_ids()) seed_rows.push_back(view_.node_local[v]);
    step.labels = torch::from_blob(const_cast<int32_t*>(view_.part.labels.data()),
                                   {view_.part.num_nodes}, torch::kInt32)
                      .index_select(0, int64_tensor(seed_rows))
                      .to(torch::kInt64);
    for (const auto& block : batch.blocks)
      step.graphs.push_back(nn::block_layer_graph(block, /*global_input=*/false,
                                                  nn::Normalization::kNone, view_.part));
    step.gather_seconds = seconds_since(start);
    return step;
  }

 private:
  const PartView& view_;
  const DistributedSampler& sampler_;
  FeatureFetcher& fetcher_;
  const std::vector<int32_t> order_;
  const std::vector<int64_t>& train_counts_;
  const int64_t num_steps_, epoch_;
  int64_t step_ = 0;
  double sample_seconds_ = 0;
};

}  // namespace

HaloRows::HaloRows(const PartView& view, comm::Communicator& comm) : view_(view), comm_(comm) {
  const graph::Graph& part = view.part;
  const int me = comm.rank();
  table_row_.assign(view.num_nodes(), -1);
  for (int64_t r = 0; r < part.num_nodes; ++r) table_row_[view.global_ids[r]] = static_cast<int32_t>(r);
  std::vector<uint8_t> in_halo(view.num_nodes(), 0);
  for (int32_t v : part.col) in_halo[v] = view.node_part[v] != me;
  halo_.resize(comm.size());
  for (int64_t v = 0; v < view.num_nodes(); ++v)
    if (in_halo[v]) halo_[view.node_part[v]].push_back(static_cast<int32_t>(v));
  int32_t next = static_cast<int32_t>(part.num_nodes);
  for (const auto& owned : halo_)
    for (int32_t v : owned) table_row_[v] = next++;
  for (const auto& ids : comm.alltoallv_lists(halo_)) {
    send_rows_.emplace_back();
    for (int32_t v : ids) send_rows_.back().push_back(view.node_local[v]);
  }
}

nn::FeatureMatrix HaloRows::table(int, nn::FeatureMatrix own) {
  // Columns go in blocks, so the send and receive buffers hold a fraction
  // of the halo's rows (Reddit, 4 parts: 170 K rows x 256 floats in all).
  constexpr int64_t kColumnsPerRound = 64;
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
    torch::Tensor received = torch::empty({halo_size, columns});
    comm_.alltoallv<float>(std::span<const float>(send.data_ptr<float>(), send.numel()),
                           send_counts,
                           std::span<float>(received.data_ptr<float>(), received.numel()),
                           recv_counts);
    table.narrow(0, own_rows, halo_size).narrow(1, first, columns).copy_(received);
  }
  return table;
}

nn::LayerGraph HaloRows::chunk(int, int64_t begin, int64_t end) {
  const graph::Graph& part = view_.part;
  const int64_t edge_begin = part.rowptr[begin], edge_end = part.rowptr[end];
  std::vector<int64_t> rowptr;
  for (int64_t r = begin; r <= end; ++r) rowptr.push_back(part.rowptr[r] - edge_begin);
  std::vector<int32_t> col;
  for (int64_t e = edge_begin; e < edge_end; ++e) col.push_back(table_row_[part.col[e]]);
  nn::LayerGraph g;
  g.adjacency = {int64_tensor(rowptr), torch::tensor(col, torch::kInt32), torch::Tensor()};
  g.num_dst = end - begin;
  g.dst_begin = begin;
  return g;
}

PartitionStrategy::PartitionStrategy(const PartView& view, TrainingState& state,
                                     const TrainOptions& options, comm::Communicator& comm)
    : Strategy(state, options, &comm),
      view_(view),
      sampler_(view, sample::SamplerOptions{options.fanouts, options.seed, options.threads}, comm),
      fetcher_(view, comm, options.feature_cache_bytes),
      buckets_(state.model->parameters(), options.gradient_bucket_bytes, comm),
      eval_rows_(view, comm) {
  check(!options.full_batch, "--strategy partition: trains mini-batches; drop --full-batch");
  check(state.model->normalization() == nn::Normalization::kNone,
        "--strategy partition: supports --model sage (GCN's normalisation needs every node's "
        "degree)");
  const graph::Graph& part = view.part;
  for (int64_t r = 0; r < part.num_nodes; ++r)
    if (part.train_mask[r]) train_nodes_.push_back(view.global_ids[r]);
  for (const auto& theirs : comm.all_gather({static_cast<int64_t>(train_nodes_.size())}))
    train_counts_.push_back(theirs.at(0));
  const int64_t total = std::accumulate(train_counts_.begin(), train_counts_.end(), int64_t{0});
  check(total > 0, "{}: no training nodes in any part", part.name);
  steps_per_epoch_ = (total + options.batch_size - 1) / options.batch_size;
}

EpochStats PartitionStrategy::run_epoch(int64_t epoch, runtime::Progress& progress) {
  std::vector<int32_t> order = train_nodes_;
  sample::shuffle(order, options_.seed, static_cast<uint64_t>(epoch) << 16 | rank());
  PartBatches source(view_, sampler_, fetcher_, std::move(order), train_counts_, steps_per_epoch_,
                     epoch);
  progress.start_epoch(epoch, options_.epochs, steps_per_epoch_);
  return run_minibatch_epoch(source, state_, epoch, progress, [this] { buckets_.finish(); },
                             comm_);
}

nn::FeatureMatrix PartitionStrategy::eval_features() const { return borrow_features(view_.part); }

}  // namespace edgegnn::train
