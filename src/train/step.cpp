#include "train/step.h"

#include <fmt/format.h>

#include "core/clock.h"

namespace edgegnn::train {
namespace {


// Backpropagates sum(NLL) / `divisor`: the mean over this step's seeds, or,
// for a rank's slice of a data-parallel batch, its share of the whole batch's
// mean, so that summing gradients across ranks gives single-device gradients.
StepResult loss_backward(const torch::Tensor& log_probs, const torch::Tensor& labels,
                         int64_t divisor) {
  StepResult r;
  torch::Tensor loss_sum = torch::nll_loss(log_probs, labels, {}, at::Reduction::Sum);
  (loss_sum / static_cast<double>(divisor)).backward();
  r.loss = loss_sum.item<double>() / std::max<int64_t>(1, labels.size(0));
  r.correct = log_probs.argmax(1).eq(labels).sum().item<int64_t>();
  r.count = labels.size(0);
  return r;
}

}  // namespace

std::vector<nn::LayerGraph> batch_layer_graphs(const sample::Batch& batch,
                                               nn::Normalization normalization,
                                               const graph::Graph& g) {
  std::vector<nn::LayerGraph> graphs;
  for (size_t l = 0; l < batch.blocks.size(); ++l)
    graphs.push_back(nn::block_layer_graph(batch.blocks[l], /*global_input=*/l == 0, normalization, g));
  return graphs;
}

StepResult forward_backward(nn::GnnModel& model, const graph::Graph& g, const GraphTensors& tensors,
                            const sample::Batch& batch) {
  auto start = Clock::now();
  std::vector<nn::LayerGraph> graphs = batch_layer_graphs(batch, model->normalization(), g);
  const auto& seeds = batch.seed_ids();
  torch::Tensor seed_tensor = torch::tensor(std::vector<int64_t>(seeds.begin(), seeds.end()));
  torch::Tensor labels = tensors.labels_of(seed_tensor);
  const double gather_seconds = seconds_since(start);

  start = Clock::now();
  StepResult r = loss_backward(model->forward(tensors.features, graphs), labels,
                               std::max(batch.global_size, static_cast<int64_t>(seeds.size())));
  r.compute_seconds = seconds_since(start);
  r.gather_seconds = gather_seconds;
  return r;
}

std::vector<nn::LayerGraph> full_layer_graphs(const graph::Graph& g, int num_layers,
                                              nn::Normalization normalization) {
  nn::LayerGraph whole = nn::full_layer_graph(g, 0, g.num_nodes, normalization);
  return std::vector<nn::LayerGraph>(num_layers, whole);
}

StepResult forward_backward_full(nn::GnnModel& model, const std::vector<nn::LayerGraph>& graphs,
                                 const GraphTensors& tensors, const torch::Tensor& train_nodes) {
  auto start = Clock::now();
  torch::Tensor labels = tensors.labels_of(train_nodes);
  const double gather_seconds = seconds_since(start);

  start = Clock::now();
  torch::Tensor log_probs = model->forward(tensors.features, graphs).index_select(0, train_nodes);
  StepResult r = loss_backward(log_probs, labels, labels.size(0));
  r.compute_seconds = seconds_since(start);
  r.gather_seconds = gather_seconds;
  return r;
}

EpochStats run_minibatch_epoch(sample::BatchLoader& loader, TrainingState& state,
                               const graph::Graph& g, const GraphTensors& tensors,
                               runtime::Progress& progress,
                               const std::function<void()>& before_step) {
  EpochStats stats;
  double loss_sum = 0;
  int64_t correct = 0, count = 0;
  state.model->train();
  for (;;) {
    auto start = Clock::now();
    std::optional<sample::Batch> batch = loader.next();
    stats.wait_seconds += seconds_since(start);
    if (!batch) break;
    state.optimizer->zero_grad();
    StepResult r = forward_backward(state.model, g, tensors, *batch);
    start = Clock::now();
    if (before_step) before_step();
    stats.sync_seconds += seconds_since(start);
    start = Clock::now();
    state.optimizer->step();
    stats.optimizer_seconds += seconds_since(start);
    stats.gather_seconds += r.gather_seconds;
    stats.compute_seconds += r.compute_seconds;
    loss_sum += r.loss * r.count;
    correct += r.correct;
    count += r.count;
    ++stats.num_steps;
    progress.step(stats.num_steps, fmt::format("loss {:.4f}", loss_sum / count));
  }
  stats.sample_seconds = loader.sample_seconds();
  stats.loss = count > 0 ? loss_sum / count : 0;
  stats.train_acc = count > 0 ? static_cast<double>(correct) / count : 0;
  return stats;
}

}  // namespace edgegnn::train
