#include "train/device_reports.h"

#include <bit>

namespace edgegnn::train {

std::vector<DeviceReport> gather_device_reports(comm::Communicator& comm, const DeviceReport& mine) {
  // Doubles travel as their bit patterns, the role as one value per char.
  std::vector<int64_t> values{mine.peak_rss_bytes, mine.bytes_sent, mine.bytes_received,
                              std::bit_cast<int64_t>(mine.parameter_checksum),
                              std::bit_cast<int64_t>(mine.busy_seconds),
                              std::bit_cast<int64_t>(mine.idle_seconds),
                              mine.training_bytes_sent};
  for (char c : mine.role) values.push_back(c);
  const std::vector<std::vector<int64_t>> all =
      comm.alltoallv_lists(std::vector<std::vector<int64_t>>(comm.size(), values));
  std::vector<DeviceReport> reports;
  for (int r = 0; r < comm.size(); ++r) {
    const std::vector<int64_t>& v = all[r];
    DeviceReport report;
    report.rank = r;
    report.peak_rss_bytes = v.at(0);
    report.bytes_sent = v.at(1);
    report.bytes_received = v.at(2);
    report.parameter_checksum = std::bit_cast<double>(v.at(3));
    report.busy_seconds = std::bit_cast<double>(v.at(4));
    report.idle_seconds = std::bit_cast<double>(v.at(5));
    report.training_bytes_sent = v.at(6);
    for (size_t k = 7; k < v.size(); ++k) report.role.push_back(static_cast<char>(v[k]));
    reports.push_back(report);
  }
  return reports;
}

}  // namespace edgegnn::train
