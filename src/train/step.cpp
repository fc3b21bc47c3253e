#include "train/step.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/error.h"

namespace edgegnn::train {

void loss_backward(const torch::Tensor& log_probs, const torch::Tensor& labels, int64_t divisor,
                   int64_t epoch, int64_t step, LossTotals& totals) {
  torch::Tensor loss_sum = torch::nll_loss(log_probs, labels, {}, at::Reduction::Sum);
  const double value = loss_sum.item<double>();
  check(std::isfinite(value),
        "epoch {}, step {}: the loss is not finite ({}); stopping, the checkpoint of the last "
        "finished epoch is kept",
        epoch, step, value);
  (loss_sum / static_cast<double>(std::max<int64_t>(1, divisor))).backward();
  totals.loss_sum += value;
  totals.correct += log_probs.argmax(1).eq(labels).sum().item<int64_t>();
  totals.count += labels.size(0);
}

EpochStats run_minibatch_epoch(BatchSource& source, TrainingState& state, int64_t epoch,
                               runtime::Progress& progress,
                               const std::function<void()>& before_step,
                               comm::Communicator* comm) {
  EpochStats stats;
  LossTotals totals;
  std::vector<int64_t> step_nanoseconds;
  for (;;) {
    auto start = Clock::now();
    std::optional<StepBatch> batch = source.next();
    if (!batch) break;
    stats.wait_seconds += seconds_since(start) - batch->gather_seconds;
    stats.gather_seconds += batch->gather_seconds;

    start = Clock::now();
    state.optimizer->zero_grad();
    torch::Tensor log_probs = state.model->forward(batch->input, batch->graphs);
    if (batch->loss_rows.defined()) log_probs = log_probs.index_select(0, batch->loss_rows);
    loss_backward(log_probs, batch->labels, batch->global_size, epoch, stats.num_steps + 1,
                  totals);
    step_nanoseconds.push_back(static_cast<int64_t>(seconds_since(start) * 1e9));
    start = Clock::now();
    if (before_step) before_step();
    stats.sync_seconds += seconds_since(start);
    start = Clock::now();
    state.optimizer->step();
    stats.optimizer_seconds += seconds_since(start);
    ++stats.num_steps;
    progress.step(stats.num_steps, fmt::format("loss {:.4f}", totals.loss_sum / totals.count));
  }
  stats.sample_seconds = source.sample_seconds();
  stats.transfer_seconds = source.transfer_seconds();
  const double batch_waits =
      std::min(stats.wait_seconds + stats.gather_seconds, stats.transfer_seconds);
  stats.exposed_comm_seconds = stats.sync_seconds + batch_waits;
  stats.hidden_comm_seconds = stats.transfer_seconds - batch_waits;
  // From the same whole nanoseconds as the slowest sums, so that no rounding
  // puts a rank's own time above the slowest.
  stats.compute_seconds =
      std::accumulate(step_nanoseconds.begin(), step_nanoseconds.end(), 0.0) / 1e9;
  stats.slowest_compute_seconds = stats.compute_seconds;
  if (comm) {
    // Every rank makes every step.
    std::vector<int64_t> slowest(step_nanoseconds.size());
    for (const auto& theirs : comm->all_gather(step_nanoseconds))
      for (size_t s = 0; s < slowest.size() && s < theirs.size(); ++s)
        slowest[s] = std::max(slowest[s], theirs[s]);
    stats.slowest_compute_seconds = std::accumulate(slowest.begin(), slowest.end(), 0.0) / 1e9;
    // Exact sums in rank order: the loss travels as its bit pattern.
    LossTotals all;
    for (const auto& theirs :
         comm->all_gather({std::bit_cast<int64_t>(totals.loss_sum), totals.correct, totals.count})) {
      all.loss_sum += std::bit_cast<double>(theirs.at(0));
      all.correct += theirs.at(1);
      all.count += theirs.at(2);
    }
    totals = all;
  }
  stats.loss = totals.count > 0 ? totals.loss_sum / totals.count : 0;
  stats.train_acc = totals.count > 0 ? static_cast<double>(totals.correct) / totals.count : 0;
  return stats;
}

std::vector<nn::LayerGraph> batch_layer_graphs(const sample::Batch& batch,
                                               nn::Normalization normalization,
                                               const graph::Graph& g) {
  std::vector<nn::LayerGraph> graphs;
  for (size_t l = 0; l < batch.blocks.size(); ++l)
    graphs.push_back(nn::block_layer_graph(batch.blocks[l], /*global_input=*/l == 0, normalization, g));
  return graphs;
}

std::vector<nn::LayerGraph> full_layer_graphs(const graph::Graph& g, int num_layers,
                                              nn::Normalization normalization) {
  nn::LayerGraph whole = nn::full_layer_graph(g, 0, g.num_nodes, normalization);
  return std::vector<nn::LayerGraph>(num_layers, whole);
}

}  // namespace edgegnn::train
