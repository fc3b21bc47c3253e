// Calibration: what an epoch's time depends on, measured on this machine by
// short probes, for the planner's time model (`edgegnn calibrate`). A rate is
// the median of timed rounds, not the best one: an epoch runs at the
// sustained rate, including the rounds that a busy machine slows.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

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
  // The aggregation reads rows scattered over a matrix of this size, larger
  // than any board's caches, as a batch's first layer does.
  int64_t aggregation_matrix_bytes = int64_t{128} << 20;
  uint64_t seed = 0;
};

struct Calibration {
  int threads = 0;
  double gemm_gflops = 0;                   // float32, rows x features x hidden
  double output_gemm_gflops = 0;            // float32, rows x hidden x classes
  double aggregation_bytes_per_second = 0;  // rows read by a CSR mean (10 per output row)
  double sampled_edges_per_second = 0;      // reddit.py's fanouts (25, 10), batches of 1024
};

// Runs the probes in turn, calling `on_probe(name)` before each.
Calibration calibrate(const CalibrationOptions& options,
                      const std::function<void(const std::string&)>& on_probe);

nlohmann::json to_json(const Calibration& calibration, const CalibrationOptions& options);

}  // namespace edgegnn::train
