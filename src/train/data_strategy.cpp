#include "train/data_strategy.h"

#include <algorithm>
#include <memory>

#include "runtime/memory_meter.h"
#include "train/device_reports.h"

namespace edgegnn::train {

DataStrategy::DataStrategy(const graph::Graph& graph, TrainingState& state,
                           const TrainOptions& options, comm::Communicator& comm)
    : SingleStrategy(graph, state, options),
      comm_(comm),
      buckets_(
          state.model->parameters(),
          std::min(kFirstGradientBucketBytes, options.gradient_bucket_bytes),
          options.gradient_bucket_bytes,
          [this](torch::Tensor& flat) {
            auto pending = std::make_shared<comm::Communicator::Pending>(
                comm_.allreduce_start(std::span<float>(flat.data_ptr<float>(), flat.numel())));
            return [pending] { pending->wait(); };
          },
          [this] { comm_.progress(); }) {
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
