#include "train/data_strategy.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "runtime/memory_meter.h"

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
            auto pending = std::make_shared<comm::Communicator::PendingAllreduce>(
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
  const int size = comm_.size();
  // The checksum travels as its bit pattern in an int64.
  const double checksum = parameter_checksum(training_state().model);
  int64_t checksum_bits;
  std::memcpy(&checksum_bits, &checksum, sizeof checksum);
  std::vector<int64_t> mine{runtime::peak_rss_bytes(), comm_.bytes_sent(), comm_.bytes_received(),
                            checksum_bits};
  std::vector<std::vector<int64_t>> lists(size, mine);
  std::vector<std::vector<int64_t>> all = comm_.alltoallv_lists(lists);
  std::vector<DeviceReport> reports;
  for (int r = 0; r < size; ++r) {
    DeviceReport report;
    report.rank = r;
    report.role = "trainer";
    report.peak_rss_bytes = all[r].at(0);
    report.bytes_sent = all[r].at(1);
    report.bytes_received = all[r].at(2);
    std::memcpy(&report.parameter_checksum, &all[r].at(3), sizeof(double));
    reports.push_back(report);
  }
  return reports;
}

}  // namespace edgegnn::train
