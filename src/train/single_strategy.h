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
#include "train/memory_plan.h"
#include "train/strategy.h"

namespace edgegnn::train {

// A rank holding the whole graph and training on `shape`-sized batches, one
// of `devices`, with `comm` bytes of buffers held through both phases.
RankPlan replica_plan(const PlanContext& c, int rank, const BatchShape& shape, int devices,
                      int64_t comm);

class SingleStrategy : public Strategy {
 public:
  // Borrows everything; all must outlive the strategy.
  SingleStrategy(const graph::Graph& graph, TrainingState& state, const TrainOptions& options,
                 comm::Communicator* comm = nullptr);

  std::string name() const override { return "single"; }
  static std::unique_ptr<Strategy> make(const StrategyInputs& in);
  static std::vector<RankPlan> estimate(const PlanContext& c, std::string& note);

 protected:
  EpochStats run_epoch(int64_t epoch, runtime::Progress& progress) override;
  nn::FeatureMatrix eval_features() const override { return tensors_.features; }
  EvalRows& eval_rows() override { return eval_rows_; }
  const graph::Graph& eval_graph() const override { return graph_; }
  std::string role() const override { return "trainer"; }
  // This device's share of each batch.
  virtual sample::LoaderOptions loader_options(int64_t epoch) const;
  // Between backward and the optimizer step (e.g. summing gradients).
  virtual void before_step() {}

 private:
  const graph::Graph& graph_;
  GraphTensors tensors_;
  std::vector<int32_t> train_nodes_;
  std::unique_ptr<sample::NeighborSampler> sampler_;  // mini-batches only
  std::vector<nn::LayerGraph> full_graphs_;           // full batch only
  WholeGraphRows eval_rows_;
};

}  // namespace edgegnn::train
