#include "train/training_state.h"

namespace edgegnn::train {

TrainingState make_training_state(const TrainOptions& options) {
  torch::manual_seed(options.seed);
  TrainingState state;
  state.model = nn::GnnModel(options.model);
  auto adam = [&](double decay) { return torch::optim::AdamOptions(options.lr).weight_decay(decay); };
  if (options.decay_first_layer_only) {
    std::vector<torch::Tensor> first = state.model->first_layer_parameters(), rest;
    for (const auto& p : state.model->parameters()) {
      bool in_first = false;
      for (const auto& f : first) in_first |= p.is_same(f);
      if (!in_first) rest.push_back(p);
    }
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(first, std::make_unique<torch::optim::AdamOptions>(adam(options.weight_decay)));
    groups.emplace_back(rest, std::make_unique<torch::optim::AdamOptions>(adam(0)));
    state.optimizer = std::make_unique<torch::optim::Adam>(std::move(groups), adam(0));
  } else {
    state.optimizer =
        std::make_unique<torch::optim::Adam>(state.model->parameters(), adam(options.weight_decay));
  }
  return state;
}

double parameter_checksum(const nn::GnnModel& model) {
  double sum = 0;
  for (const auto& p : model->parameters()) sum += p.detach().abs().sum().item<double>();
  return sum;
}

}  // namespace edgegnn::train
