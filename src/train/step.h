// The one mini-batch loop every strategy's training shares, and the parts of a
// step around it: a BatchSource yields each step's inputs ready to compute
// (single and data: sampled on a background thread from the whole graph;
// partition: sampled across parts and fetched from their owners; full batch:
// the whole graph once), and run_minibatch_epoch runs forward, loss, backward,
// the strategy's gradient sync and the optimizer step over them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include <torch/torch.h>

#include "comm/communicator.h"
#include "graph/graph.h"
#include "nn/gnn_model.h"
#include "nn/layer_graph.h"
#include "runtime/progress.h"
#include "sample/block.h"
#include "train/strategy.h"
#include "train/training_state.h"

namespace edgegnn::train {

// One step's inputs on this rank.
struct StepBatch {
  std::vector<nn::LayerGraph> graphs;  // one per layer, input layer first
  nn::FeatureMatrix input;             // the rows graphs[0] reads
  torch::Tensor labels;                // int64, one per row the loss reads
  torch::Tensor loss_rows;             // int64 output rows the loss reads; undefined: all
  int64_t global_size = 0;             // the whole step's loss rows across ranks
  double gather_seconds = 0;           // building graphs, gathering rows and labels
};

// One epoch's steps on this rank.
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual int64_t num_steps() const = 0;
  // The next step's inputs, or nullopt after the last step.
  virtual std::optional<StepBatch> next() = 0;
  // Seconds spent sampling this epoch's batches so far.
  virtual double sample_seconds() const = 0;
  // Seconds spent in transfers making this epoch's batches so far.
  virtual double transfer_seconds() const { return 0; }
};

// Sums over a step's (or an epoch's) seeds.
struct LossTotals {
  double loss_sum = 0;
  int64_t correct = 0, count = 0;
};

// NLL of `log_probs` against `labels`; backpropagates its sum / `divisor`
// (the mean over the whole step's seeds across ranks, so that summing
// gradients over ranks gives one device's) and adds to `totals`. A loss that
// is not finite stops the run: an Error naming the epoch and step.
void loss_backward(const torch::Tensor& log_probs, const torch::Tensor& labels, int64_t divisor,
                   int64_t epoch, int64_t step, LossTotals& totals);

// One epoch over `source`: for each step, zero gradients, forward, loss and
// backward, then `before_step` (where a strategy sums gradients across
// ranks), then the optimizer step. The epoch's loss and accuracy are over
// every rank's seeds where `comm` is given.
EpochStats run_minibatch_epoch(BatchSource& source, TrainingState& state, int64_t epoch,
                               runtime::Progress& progress,
                               const std::function<void()>& before_step,
                               comm::Communicator* comm);

// Layer graphs of a sampled batch from the whole graph: the first reads the
// global feature matrix in place.
std::vector<nn::LayerGraph> batch_layer_graphs(const sample::Batch& batch,
                                               nn::Normalization normalization,
                                               const graph::Graph& g);

// Layer graphs of the whole graph, every layer reading all nodes' rows.
std::vector<nn::LayerGraph> full_layer_graphs(const graph::Graph& g, int num_layers,
                                              nn::Normalization normalization);

}  // namespace edgegnn::train
