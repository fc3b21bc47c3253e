// The parts of a training step every strategy shares: turning a sampled batch
// into layer graphs, and forward + loss + backward on one device. Strategies
// differ in what they do around these (allreduce gradients, cut the model
// across devices), not in these.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <torch/torch.h>

#include "graph/graph.h"
#include "nn/gnn_model.h"
#include "runtime/progress.h"
#include "sample/batch_loader.h"
#include "train/strategy.h"
#include "train/training_state.h"
#include "train/graph_tensors.h"

namespace edgegnn::train {

struct StepResult {
  double loss = 0;       // mean NLL over the step's seeds
  int64_t correct = 0;   // seeds predicted right
  int64_t count = 0;     // seeds in the step
  double gather_seconds = 0;   // building layer graphs, gathering rows and labels
  double compute_seconds = 0;  // forward, loss and backward
};

// Layer graphs of a sampled batch: the first reads the global feature matrix.
std::vector<nn::LayerGraph> batch_layer_graphs(const sample::Batch& batch,
                                               nn::Normalization normalization,
                                               const graph::Graph& g);

// Forward, NLL loss over the batch's seeds and backward (gradients accumulate
// into the model's .grad); the optimizer step is the caller's.
StepResult forward_backward(nn::GnnModel& model, const graph::Graph& g,
                            const GraphTensors& tensors, const sample::Batch& batch);

// Layer graphs of the whole graph, every layer reading all nodes' rows.
std::vector<nn::LayerGraph> full_layer_graphs(const graph::Graph& g, int num_layers,
                                              nn::Normalization normalization);

// The same step on the whole graph, the loss over `train_nodes` (int64).
StepResult forward_backward_full(nn::GnnModel& model, const std::vector<nn::LayerGraph>& graphs,
                                 const GraphTensors& tensors, const torch::Tensor& train_nodes);

// One epoch of mini-batch steps over `loader`: zero gradients, forward and
// backward, then `before_step` (where a strategy averages gradients across
// devices), then the optimizer step.
EpochStats run_minibatch_epoch(sample::BatchLoader& loader, TrainingState& state,
                               const graph::Graph& g, const GraphTensors& tensors,
                               runtime::Progress& progress,
                               const std::function<void()>& before_step = {});

}  // namespace edgegnn::train
