// DataStrategy: data parallelism — ddp_reddit.py over Gloo, mpi_reddit.py
// (Horovod) over MPI. Every device holds the whole graph and model; each
// global batch (--batch-size) is cut into one slice per device, every device
// samples and trains on its slice, and the gradients are summed across devices
// in fused buckets, overlapped with backward, before every device takes the
// same optimizer step. The loss of a slice is scaled by the global batch size,
// so the summed gradient is the single-device gradient and the devices'
// weights stay bit-identical.
#pragma once

#include "comm/communicator.h"
#include "train/gradient_buckets.h"
#include "train/single_strategy.h"

namespace edgegnn::train {

class DataStrategy : public SingleStrategy {
 public:
  // Borrows everything; all must outlive the strategy.
  DataStrategy(const graph::Graph& graph, TrainingState& state, const TrainOptions& options,
               comm::Communicator& comm);

  std::string name() const override { return "data"; }
  static std::unique_ptr<Strategy> make(const StrategyInputs& in);
  static std::vector<RankPlan> estimate(const PlanContext& c, std::string& note);

 protected:
  sample::LoaderOptions loader_options(int64_t epoch) const override;
  void before_step() override { buckets_.finish(); }

 private:
  GradientBuckets buckets_;
};

}  // namespace edgegnn::train
