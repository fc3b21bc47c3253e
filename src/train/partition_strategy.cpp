#include "train/partition_strategy.h"

#include <numeric>

#include "core/clock.h"
#include "core/error.h"
#include "core/random.h"
#include "runtime/memory_meter.h"
#include "train/device_reports.h"
#include "train/graph_tensors.h"

namespace edgegnn::train {
namespace {


torch::Tensor int64_tensor(const std::vector<int64_t>& values) {
  return torch::tensor(values, torch::kInt64);
}

}  // namespace

PartitionStrategy::PartitionStrategy(const PartView& view, TrainingState& state,
                                     const TrainOptions& options, comm::Communicator& comm)
    : view_(view),
      state_(state),
      options_(options),
      comm_(comm),
      sampler_(view, sample::SamplerOptions{options.fanouts, options.seed, options.threads}, comm),
      fetcher_(view, comm, options.feature_cache_bytes),
      buckets_(state.model->parameters(), options.gradient_bucket_bytes, comm) {
  check(!options.full_batch, "--strategy partition: trains mini-batches; drop --full-batch");
  check(state.model->normalization() == nn::Normalization::kNone,
        "--strategy partition: supports --model sage (GCN's normalisation needs every node's "
        "degree)");
  const graph::Graph& part = view.part;
  for (int64_t r = 0; r < part.num_nodes; ++r)
    if (part.train_mask[r]) train_nodes_.push_back(view.global_ids[r]);
  train_counts_ = count_on_every_rank(static_cast<int64_t>(train_nodes_.size()));
  const int64_t total = std::accumulate(train_counts_.begin(), train_counts_.end(), int64_t{0});
  check(total > 0, "{}: no training nodes in any part", part.name);
  steps_per_epoch_ = (total + options.batch_size - 1) / options.batch_size;

  // The halo, per owner, and who needs which of this part's rows.
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

std::vector<int64_t> PartitionStrategy::count_on_every_rank(int64_t count) {
  std::vector<std::vector<int64_t>> lists(comm_.size(), std::vector<int64_t>{count});
  std::vector<int64_t> counts;
  for (const auto& list : comm_.alltoallv_lists(lists)) counts.push_back(list.at(0));
  return counts;
}

EpochStats PartitionStrategy::train_epoch(int64_t epoch, runtime::Progress& progress) {
  const int me = comm_.rank();
  const int64_t sent_before = comm_.bytes_sent();
  std::vector<int32_t> order = train_nodes_;
  KeyedRandom rng(options_.seed, /*key1=*/0x5eed5, static_cast<uint64_t>(epoch) << 16 | me);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);

  progress.start_epoch(epoch, options_.epochs, steps_per_epoch_);
  state_.model->train();
  EpochStats stats;
  double loss_sum = 0;
  int64_t correct = 0, count = 0;
  const int64_t n = static_cast<int64_t>(order.size());
  for (int64_t s = 0; s < steps_per_epoch_; ++s) {
    auto slice = [&](int64_t total) {
      return std::pair{total * s / steps_per_epoch_, total * (s + 1) / steps_per_epoch_};
    };
    int64_t global_size = 0;
    for (int64_t c : train_counts_) global_size += slice(c).second - slice(c).first;
    const auto [first, last] = slice(n);

    auto start = Clock::now();
    sample::Batch batch = sampler_.sample(std::span(order).subspan(first, last - first),
                                          (static_cast<uint64_t>(epoch) << 32) | s);
    stats.sample_seconds += seconds_since(start);
    start = Clock::now();
    nn::FeatureMatrix x = fetcher_.gather(batch.input_ids());
    std::vector<int64_t> seed_rows;
    for (int32_t v : batch.seed_ids()) seed_rows.push_back(view_.node_local[v]);
    torch::Tensor labels = torch::from_blob(const_cast<int32_t*>(view_.part.labels.data()),
                                            {view_.part.num_nodes}, torch::kInt32)
                               .index_select(0, int64_tensor(seed_rows))
                               .to(torch::kInt64);
    std::vector<nn::LayerGraph> graphs;
    for (const auto& block : batch.blocks)
      graphs.push_back(nn::block_layer_graph(block, /*global_input=*/false,
                                             nn::Normalization::kNone, view_.part));
    stats.gather_seconds += seconds_since(start);

    start = Clock::now();
    state_.optimizer->zero_grad();
    torch::Tensor log_probs = state_.model->forward(x, graphs);
    torch::Tensor step_loss = torch::nll_loss(log_probs, labels, {}, at::Reduction::Sum);
    (step_loss / static_cast<double>(std::max<int64_t>(1, global_size))).backward();
    stats.compute_seconds += seconds_since(start);
    start = Clock::now();
    buckets_.finish();
    stats.sync_seconds += seconds_since(start);
    start = Clock::now();
    state_.optimizer->step();
    stats.optimizer_seconds += seconds_since(start);

    loss_sum += step_loss.item<double>();
    correct += log_probs.argmax(1).eq(labels).sum().item<int64_t>();
    count += labels.size(0);
    ++stats.num_steps;
    progress.step(stats.num_steps, "");
  }
  // The epoch's loss and accuracy over every rank's seeds.
  std::vector<float> totals{static_cast<float>(loss_sum), static_cast<float>(correct),
                            static_cast<float>(count)};
  comm_.allreduce(std::span<float>(totals));
  stats.loss = totals[2] > 0 ? totals[0] / totals[2] : 0;
  stats.train_acc = totals[2] > 0 ? totals[1] / totals[2] : 0;
  training_bytes_sent_ += comm_.bytes_sent() - sent_before;
  return stats;
}

torch::Tensor PartitionStrategy::with_halo(const torch::Tensor& rows) {
  // Columns go in blocks, so the send and receive buffers hold a fraction
  // of the halo's rows (Reddit, 4 parts: 170 K rows x 256 floats in all).
  constexpr int64_t kColumnsPerRound = 64;
  const int size = comm_.size();
  const int64_t own = rows.size(0), width = rows.size(1);
  std::vector<int64_t> flat_rows;
  int64_t halo_size = 0;
  for (int p = 0; p < size; ++p) {
    flat_rows.insert(flat_rows.end(), send_rows_[p].begin(), send_rows_[p].end());
    halo_size += static_cast<int64_t>(halo_[p].size());
  }
  const torch::Tensor wanted = int64_tensor(flat_rows);
  torch::Tensor table = torch::empty({own + halo_size, width});
  table.narrow(0, 0, own).copy_(rows);
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
    table.narrow(0, own, halo_size).narrow(1, first, columns).copy_(received);
  }
  return table;
}

Accuracy PartitionStrategy::evaluate() {
  torch::NoGradGuard no_grad;
  nn::GnnModel& model = state_.model;
  model->eval();
  const graph::Graph& part = view_.part;
  const int64_t own = part.num_nodes, chunk = options_.levers.eval_chunk_nodes;
  // The first layer's input: the part's features as held. Compressed, they
  // are widened a chunk at a time into messages; a layer that does not narrow
  // widens them whole, as its table of own and halo rows is float32 anyway.
  nn::FeatureMatrix h = borrow_features(part);
  for (int l = 0; l < model->num_layers(); ++l) {
    nn::GraphConv& conv = model->conv(l);
    // A narrowing layer sends and aggregates its narrower messages.
    const bool narrows = conv.out_features() < conv.in_features();
    torch::Tensor own_rows =
        narrows ? h.map_rows([&](const torch::Tensor& rows) { return conv.message(rows); })
                : h.widen();
    torch::Tensor table = with_halo(own_rows);
    own_rows = torch::Tensor();
    torch::Tensor out;
    for (int64_t begin = 0; begin < own; begin += chunk) {
      const int64_t end = std::min(own, begin + chunk);
      const int64_t edge_begin = part.rowptr[begin], edge_end = part.rowptr[end];
      std::vector<int64_t> rowptr;
      for (int64_t r = begin; r <= end; ++r) rowptr.push_back(part.rowptr[r] - edge_begin);
      std::vector<int32_t> col;
      for (int64_t e = edge_begin; e < edge_end; ++e) col.push_back(table_row_[part.col[e]]);
      nn::LayerGraph g;
      g.adjacency = {int64_tensor(rowptr), torch::tensor(col, torch::kInt32), torch::Tensor()};
      g.num_dst = end - begin;
      g.dst_begin = begin;
      torch::Tensor rows =
          narrows ? conv.update(nn::csr_aggregate(table, g.adjacency, conv.aggregation()),
                                h.map_rows([&](const torch::Tensor& x) { return conv.root(x); },
                                           begin, end - begin))
                  : conv.forward(table, g);
      rows = model->activate(l, rows);
      if (!out.defined()) out = torch::empty({own, rows.size(1)});
      out.narrow(0, begin, end - begin).copy_(rows);
    }
    h = out.defined() ? out : torch::empty({0, conv.out_features()});
  }
  model->train();

  // Hits and sizes of each split over this part, summed over ranks.
  const torch::Tensor predicted = h.widen().argmax(1);
  std::vector<float> counts(6, 0);
  const graph::Buffer<uint8_t>* masks[] = {&part.train_mask, &part.val_mask, &part.test_mask};
  const int64_t* p = predicted.data_ptr<int64_t>();
  for (int64_t r = 0; r < own; ++r)
    for (int s = 0; s < 3; ++s)
      if ((*masks[s])[r]) {
        counts[s] += p[r] == part.labels[r];
        counts[3 + s] += 1;
      }
  comm_.allreduce(std::span<float>(counts));
  auto ratio = [&](int s) { return counts[3 + s] > 0 ? counts[s] / counts[3 + s] : 0.0; };
  return {ratio(0), ratio(1), ratio(2)};
}

std::vector<DeviceReport> PartitionStrategy::device_reports() const {
  DeviceReport mine;
  mine.role = "part " + std::to_string(comm_.rank());
  mine.peak_rss_bytes = runtime::peak_rss_bytes();
  mine.bytes_sent = comm_.bytes_sent();
  mine.bytes_received = comm_.bytes_received();
  mine.parameter_checksum = parameter_checksum(state_.model);
  mine.training_bytes_sent = training_bytes_sent_;
  return gather_device_reports(comm_, mine);
}

}  // namespace edgegnn::train
