// Calibration: what an epoch's time depends on, measured on this machine by
// short probes, for the planner's time model (`edgegnn calibrate` writes them
// as a board profile, runtime/board_profile.h). A rate is
// the median of timed rounds, not the best one: an epoch runs at the
// sustained rate, including the rounds that a busy machine slows.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "runtime/board_profile.h"

namespace edgegnn::train {

struct CalibrationOptions {
  int threads = 1;               // torch and sampler threads (configured by the caller)
  double seconds_per_probe = 2;  // each probe's timed rounds stop after this
  // The GEMMs of a SAGE layer: rows x in -> out (reddit.py: a batch's ~21 K
  // first-layer rows, 602 features, 256 hidden) and of the output layer.
  int64_t gemm_rows = 20000;
  int64_t features = 602;
  int64_t hidden = 256;
  int64_t classes = 41;
  // The aggregation reads rows scattered over a matrix of this size, as a
  // batch's first layer reads the features: far beyond the caches and the
  // TLB's reach. At 128 MiB this machine read 13–18 GB/s, at 512 MiB 11–13,
  // what training on synthetic-reddit's 560 MB of features reaches (~11).
  int64_t aggregation_matrix_bytes = int64_t{512} << 20;
  uint64_t seed = 0;
};

// Runs the probes in turn with the thread count in force (`options.threads`,
// configured by the caller), calling `on_probe(name)` before each.
runtime::ComputeRates calibrate(const CalibrationOptions& options,
                                const std::function<void(const std::string&)>& on_probe);

// The link to another board running this probe, over Gloo as training uses
// it: 64 MiB each way in 4 MiB messages, timed where they arrive. The side
// with `listen` hosts the rendezvous at its address facing `peer` (rank 0);
// the other joins it at `peer`. Both must use the same `port`.
struct LinkRates {
  double sent_bits_per_second = 0, received_bits_per_second = 0;
};
LinkRates probe_link(const std::string& peer, bool listen, int port);

// The probes' shapes, for the profile's reader.
nlohmann::json probe_shapes(const CalibrationOptions& options);

}  // namespace edgegnn::train
