// SingleStrategy: everything on one device — reddit.py. Mini-batches of
// sampled blocks (prefetched on a background thread) or full-batch steps.
// DataStrategy derives from it: it changes only which slice of each batch a
// device takes and what happens between backward and the optimizer step.
#pragma once

#include <memory>

#include "graph/graph.h"
#include "sample/batch_loader.h"
#include "sample/neighbor_sampler.h"
#include "train/graph_tensors.h"
#include "train/strategy.h"
#include "train/train_options.h"
#include "train/training_state.h"

namespace edgegnn::train {

class SingleStrategy : public Strategy {
 public:
  // Borrows all three; they must outlive the strategy.
  SingleStrategy(const graph::Graph& graph, TrainingState& state, const TrainOptions& options);

  std::string name() const override { return "single"; }
  EpochStats train_epoch(int64_t epoch, runtime::Progress& progress) override;
  Accuracy evaluate() override;
  std::vector<DeviceReport> device_reports() const override;

 protected:
  // The loader of this device's share of an epoch's batches.
  virtual sample::LoaderOptions loader_options(int64_t epoch) const;
  // Between backward and the optimizer step (e.g. averaging gradients).
  virtual void before_step() {}
  TrainingState& training_state() const { return state_; }

 private:
  EpochStats train_full_batch(runtime::Progress& progress);

  const graph::Graph& graph_;
  TrainingState& state_;
  const TrainOptions& options_;
  GraphTensors tensors_;
  std::vector<int32_t> train_nodes_;
  std::unique_ptr<sample::NeighborSampler> sampler_;
  std::vector<nn::LayerGraph> full_graphs_;  // full-batch only
};

}  // namespace edgegnn::train
