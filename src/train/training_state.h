// TrainingState: what a run learns and must save — the model and its
// optimizer (Adam, PyG's reddit.py and the GCN paper's choice).
#pragma once

#include <memory>

#include <torch/torch.h>

#include "nn/gnn_model.h"
#include "train/train_options.h"

namespace edgegnn::train {

struct TrainingState {
  nn::GnnModel model{nullptr};
  std::unique_ptr<torch::optim::Adam> optimizer;
};

// A fresh model for `options` (with in_features and num_classes set) and its
// Adam optimizer; weight decay on every layer or the first only. Seeds torch's
// generator with options.seed first, so initial weights depend only on it.
TrainingState make_training_state(const TrainOptions& options);

// Sum of |w| over all parameters, in double (a fingerprint, not a hash).
double parameter_checksum(const nn::GnnModel& model);

}  // namespace edgegnn::train
