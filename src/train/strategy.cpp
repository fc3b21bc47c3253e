#include "train/strategy.h"

#include <bit>

#include "core/clock.h"
#include "core/error.h"
#include "core/random.h"
#include "runtime/memory_meter.h"

namespace edgegnn::train {

template <typename Body>
auto Strategy::in_context(Body&& body) {
  try {
    return body();
  } catch (const Error& e) {
    const std::string context = error_context();
    if (context.empty()) throw;
    fail("{} ({})", e.what(), context);
  }
}

EpochStats Strategy::train_epoch(int64_t epoch, runtime::Progress& progress) {
  torch::manual_seed(KeyedRandom(options_.seed, static_cast<uint64_t>(epoch),
                                 static_cast<uint64_t>(rank()))
                         .next());
  const int64_t sent_before = comm_ ? comm_->bytes_sent() : 0;
  const double cpu_before = process_cpu_seconds();
  state_.model->train();
  EpochStats stats = in_context([&] { return run_epoch(epoch, progress); });
  if (comm_) training_bytes_sent_ += comm_->bytes_sent() - sent_before;
  training_cpu_seconds_ += process_cpu_seconds() - cpu_before;
  return stats;
}

torch::Tensor Strategy::evaluation_outputs() {
  return in_context([&] {
    return evaluate_layerwise(state_.model, eval_features(), eval_rows(), options_.levers);
  });
}

Accuracy Strategy::evaluate() {
  const SplitCounts mine = count_hits(evaluation_outputs(), eval_graph());
  const std::vector<int64_t> all =
      sum_over_ranks({mine.hits[0], mine.hits[1], mine.hits[2], mine.sizes[0], mine.sizes[1],
                      mine.sizes[2]});
  return accuracy_of({{all[0], all[1], all[2]}, {all[3], all[4], all[5]}});
}

std::vector<DeviceReport> Strategy::device_reports() const {
  DeviceReport mine;
  mine.rank = rank();
  mine.role = role();
  mine.peak_rss_bytes = runtime::peak_rss_bytes();
  mine.parameter_checksum = parameter_checksum(state_.model);
  mine.training_cpu_seconds = training_cpu_seconds_;
  if (comm_) {
    mine.bytes_sent = comm_->bytes_sent();
    mine.bytes_received = comm_->bytes_received();
    mine.training_bytes_sent = training_bytes_sent_;
  }
  add_to_report(mine);
  if (!comm_) return {mine};
  // Doubles travel as their bit patterns, the role as one value per char.
  std::vector<int64_t> values{mine.peak_rss_bytes, mine.bytes_sent, mine.bytes_received,
                              std::bit_cast<int64_t>(mine.parameter_checksum),
                              std::bit_cast<int64_t>(mine.busy_seconds),
                              std::bit_cast<int64_t>(mine.idle_seconds),
                              mine.training_bytes_sent,
                              std::bit_cast<int64_t>(mine.training_cpu_seconds)};
  for (char c : mine.role) values.push_back(c);
  std::vector<DeviceReport> reports;
  for (const std::vector<int64_t>& v : comm_->all_gather(values)) {
    DeviceReport report;
    report.rank = static_cast<int>(reports.size());
    report.peak_rss_bytes = v.at(0);
    report.bytes_sent = v.at(1);
    report.bytes_received = v.at(2);
    report.parameter_checksum = std::bit_cast<double>(v.at(3));
    report.busy_seconds = std::bit_cast<double>(v.at(4));
    report.idle_seconds = std::bit_cast<double>(v.at(5));
    report.training_bytes_sent = v.at(6);
    report.training_cpu_seconds = std::bit_cast<double>(v.at(7));
    for (size_t k = 8; k < v.size(); ++k) report.role.push_back(static_cast<char>(v[k]));
    reports.push_back(report);
  }
  return reports;
}

}  // namespace edgegnn::train
