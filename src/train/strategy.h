// Strategy: where a training step runs. Every strategy realises the same data
// flow (sample -> gather -> model -> loss -> gradients -> optimizer) and cuts
// it across devices in its own place; the Trainer around it owns the epoch
// loop, evaluation bookkeeping, checkpoints and metrics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/progress.h"
#include "train/inference.h"

namespace edgegnn::train {

struct EpochStats {
  double loss = 0;       // mean over the epoch's seeds
  double train_acc = 0;  // on the epoch's sampled batches, as reddit.py reports it
  int64_t num_steps = 0;
  double sample_seconds = 0;     // producing batches (overlaps compute when prefetched)
  double wait_seconds = 0;       // waiting for the next batch
  double gather_seconds = 0;
  double compute_seconds = 0;    // forward + backward
  double sync_seconds = 0;       // after backward, waiting for gradients from other devices
  double optimizer_seconds = 0;
};

struct DeviceReport {
  int rank = 0;
  std::string role;
  int64_t peak_rss_bytes = 0;
  int64_t bytes_sent = 0;
  int64_t bytes_received = 0;
  std::optional<int64_t> memory_budget_bytes;
  // Sum of |w| over the model's parameters after training, so a run can show
  // that data-parallel devices ended with identical weights.
  double parameter_checksum = 0;
  // Pipeline stages, over all training epochs: seconds working and seconds
  // waiting for messages.
  double busy_seconds = 0;
  double idle_seconds = 0;
  int64_t training_bytes_sent = 0;  // sent in training epochs (not evaluation)
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;
  // One epoch (1-based) of training; reports each step to `progress`.
  virtual EpochStats train_epoch(int64_t epoch, runtime::Progress& progress) = 0;
  virtual Accuracy evaluate() = 0;
  virtual std::vector<DeviceReport> device_reports() const = 0;
};

}  // namespace edgegnn::train
