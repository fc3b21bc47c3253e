#include "train/data_strategy.h"

namespace edgegnn::train {

DataStrategy::DataStrategy(const graph::Graph& graph, TrainingState& state,
                           const TrainOptions& options, comm::Communicator& comm)
    : SingleStrategy(graph, state, options, &comm),
      buckets_(state.model->parameters(), options.gradient_bucket_bytes, comm) {
  check(!options.full_batch, "--strategy data: trains mini-batches; drop --full-batch");
}

sample::LoaderOptions DataStrategy::loader_options(int64_t epoch) const {
  sample::LoaderOptions options = SingleStrategy::loader_options(epoch);
  options.rank = comm_->rank();
  options.num_ranks = comm_->size();
  return options;
}

}  // namespace edgegnn::train
