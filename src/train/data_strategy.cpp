#include "train/data_strategy.h"

#include <algorithm>

#include "train/plan_context.h"

namespace edgegnn::train {

std::unique_ptr<Strategy> DataStrategy::make(const StrategyInputs& in) {
  return std::make_unique<DataStrategy>(in.graph, in.state, in.options, *in.comm);
}

std::vector<RankPlan> DataStrategy::estimate(const PlanContext& c, std::string& note) {
  const int n = c.request.devices;
  if (n < 2) {
    note = "needs 2 or more devices";
    return {};
  }
  std::vector<RankPlan> ranks;
  for (int k = 0; k < n; ++k) {
    // Its batch slice as sampled (more inputs than the batch's nth); the
    // buckets' flat gradients, sent and summed.
    RankPlan p = replica_plan(c, k, c.device_shape, n, 2 * c.model_bytes);
    p.bytes_sent_per_epoch = c.allreduce_bytes_per_epoch(n);
    // The last bucket's allreduce starts when backward ends: taken as all waited for.
    p.step.sent_bytes = double(p.bytes_sent_per_epoch) / std::max<int64_t>(1, c.steps);
    ranks.push_back(p);
  }
  note = "every device holds the whole graph; batch slices of " +
         std::to_string(c.options.batch_size / n);
  return ranks;
}

DataStrategy::DataStrategy(const graph::Graph& graph, TrainingState& state,
                           const TrainOptions& options, comm::Communicator& comm)
    : SingleStrategy(graph, state, options, &comm),
      buckets_(state.model->parameters(), options.gradient_bucket_bytes, comm) {
}

sample::LoaderOptions DataStrategy::loader_options(int64_t epoch) const {
  sample::LoaderOptions options = SingleStrategy::loader_options(epoch);
  options.rank = comm_->rank();
  options.num_ranks = comm_->size();
  return options;
}

}  // namespace edgegnn::train
