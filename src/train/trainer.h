// Trainer: the epoch loop every strategy shares — train an epoch, evaluate,
// keep the best validation result, checkpoint, report progress — and the run's
// record, written as the metrics JSON (`--metrics-out`).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/strategy.h"
#include "train/train_options.h"
#include "train/training_state.h"

namespace edgegnn::train {

struct EpochRecord {
  int64_t epoch = 0;
  EpochStats stats;
  double seconds = 0;       // training and evaluation
  double eval_seconds = 0;  // evaluation alone
  std::optional<Accuracy> accuracy;  // when the epoch was evaluated
};

struct RunRecord {
  std::vector<EpochRecord> epochs;
  Accuracy last;             // the last evaluation
  double best_val_acc = -1;  // best validation accuracy over evaluations...
  double best_test_acc = 0;  // ...and the test accuracy of that epoch
  int64_t best_epoch = 0;
  double seconds_total = 0;
  std::vector<DeviceReport> devices;
};

class Trainer {
 public:
  // Borrows all three; they must outlive the trainer.
  Trainer(Strategy& strategy, TrainingState& state, const TrainOptions& options);

  // Runs the remaining epochs (all, or after the checkpoint with --resume).
  RunRecord run();

 private:
  nlohmann::json checkpoint_meta(const RunRecord& record, int64_t epoch) const;
  void resume(RunRecord& record, int64_t& next_epoch);

  Strategy& strategy_;
  TrainingState& state_;
  const TrainOptions& options_;
};

// The metrics JSON of a finished run (`--metrics-out`; docs/formats.md, "Metrics JSON").
nlohmann::json metrics_json(const RunRecord& record, const TrainOptions& options,
                            const std::string& strategy, int devices, const std::string& backend);

// A model's shape as saved in checkpoints; resuming or evaluating checks it.
nlohmann::json model_json(const nn::ModelOptions& model);

}  // namespace edgegnn::train
