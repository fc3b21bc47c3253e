#include "train/data_strategy.h"

#include "runtime/memory_meter.h"
#include "train/device_reports.h"

namespace edgegnn::train {

DataStrategy::DataStrategy(const graph::Graph& graph, TrainingState& state,
                           const TrainOptions& options, comm::Communicator& comm)
    : SingleStrategy(graph, state, options),
      comm_(comm),
      buckets_(state.model->parameters(), options.gradient_bucket_bytes, comm) {
  check(!options.full_batch, "--strategy data: trains mini-batches; drop --full-batch");
}

sample::LoaderOptions DataStrategy::loader_options(int64_t epoch) const {
  sample::LoaderOptions options = SingleStrategy::loader_options(epoch);
  options.rank = comm_.rank();
  options.num_ranks = comm_.size();
  return options;
}

void DataStrategy::before_step() {
  buckets_.finish();
}

std::vector<DeviceReport> DataStrategy::device_reports() const {
  DeviceReport mine;
  mine.role = "trainer";
  mine.peak_rss_bytes = runtime::peak_rss_bytes();
  mine.bytes_sent = comm_.bytes_sent();
  mine.bytes_received = comm_.bytes_received();
  mine.training_bytes_sent = mine.bytes_sent;  // evaluation sends nothing
  mine.parameter_checksum = parameter_checksum(training_state().model);
  return gather_device_reports(comm_, mine);
}

}  // namespace edgegnn::train
