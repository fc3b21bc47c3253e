#include "train/single_strategy.h"

#include "runtime/memory_meter.h"
#include "sample/batch_loader.h"
#include "train/step.h"

namespace edgegnn::train {

SingleStrategy::SingleStrategy(const graph::Graph& graph, TrainingState& state,
                               const TrainOptions& options)
    : graph_(graph),
      state_(state),
      options_(options),
      tensors_(graph),
      train_nodes_(sample::mask_nodes(graph.train_mask.span())) {
  check(!train_nodes_.empty(), "{}: no training nodes", graph.name);
  if (options.full_batch)
    full_graphs_ = full_layer_graphs(graph, options.model.num_layers, state.model->normalization());
  else
    sampler_ = std::make_unique<sample::NeighborSampler>(
        graph, sample::SamplerOptions{options.fanouts, options.seed, options.threads});
}

EpochStats SingleStrategy::train_epoch(int64_t epoch, runtime::Progress& progress) {
  if (options_.full_batch) {
    progress.start_epoch(epoch, options_.epochs, 1);
    return train_full_batch(progress);
  }
  sample::BatchLoader loader(*sampler_, train_nodes_, loader_options(epoch));
  progress.start_epoch(epoch, options_.epochs, loader.num_batches());
  return run_minibatch_epoch(loader, state_, graph_, tensors_, progress, [this] { before_step(); });
}

sample::LoaderOptions SingleStrategy::loader_options(int64_t epoch) const {
  sample::LoaderOptions loader{options_.batch_size, epoch, options_.seed};
  loader.queue_depth = options_.levers.sampler_queue_depth;
  return loader;
}

EpochStats SingleStrategy::train_full_batch(runtime::Progress& progress) {
  torch::Tensor nodes = torch::tensor(std::vector<int64_t>(train_nodes_.begin(), train_nodes_.end()));
  state_.model->train();
  state_.optimizer->zero_grad();
  StepResult r = forward_backward_full(state_.model, full_graphs_, tensors_, nodes);
  const auto start = std::chrono::steady_clock::now();
  state_.optimizer->step();
  EpochStats stats;
  stats.optimizer_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stats.loss = r.loss;
  stats.train_acc = static_cast<double>(r.correct) / r.count;
  stats.num_steps = 1;
  stats.gather_seconds = r.gather_seconds;
  stats.compute_seconds = r.compute_seconds;
  progress.step(1, "");
  return stats;
}

Accuracy SingleStrategy::evaluate() {
  torch::Tensor predictions =
      layerwise_inference(state_.model, graph_, tensors_, options_.levers);
  return split_accuracy(predictions, graph_, tensors_);
}

std::vector<DeviceReport> SingleStrategy::device_reports() const {
  DeviceReport report;
  report.role = "trainer";
  report.peak_rss_bytes = runtime::peak_rss_bytes();
  report.parameter_checksum = parameter_checksum(state_.model);
  return {report};
}

}  // namespace edgegnn::train
