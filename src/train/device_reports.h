// gather_device_reports: every rank's DeviceReport, on every rank, so that
// rank 0 can write one metrics file for the whole run.
#pragma once

#include <vector>

#include "comm/communicator.h"
#include "train/strategy.h"

namespace edgegnn::train {

// A collective: every rank calls it with its own report (rank field ignored).
std::vector<DeviceReport> gather_device_reports(comm::Communicator& comm, const DeviceReport& mine);

}  // namespace edgegnn::train
