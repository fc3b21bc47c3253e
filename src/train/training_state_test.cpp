#include "train/training_state.h"

#include <gtest/gtest.h>

namespace edgegnn::train {
namespace {

TrainOptions gcn_options() {
  TrainOptions o;
  o.model = {nn::ModelKind::kGcn, /*in_features=*/5, /*hidden=*/4, /*num_classes=*/3, /*num_layers=*/2};
  o.weight_decay = 5e-4;
  o.decay_first_layer_only = true;
  return o;
}

double decay_of(const torch::optim::OptimizerParamGroup& group) {
  return static_cast<const torch::optim::AdamOptions&>(group.options()).weight_decay();
}

TEST(TrainingState, FirstLayerOnlyDecayPutsLayerOneInItsOwnGroup) {
  TrainingState state = make_training_state(gcn_options());
  const auto& groups = state.optimizer->param_groups();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].params().size(), 2u);  // convs.0.lin.weight, convs.0.bias
  EXPECT_DOUBLE_EQ(decay_of(groups[0]), 5e-4);
  EXPECT_EQ(groups[1].params().size(), 2u);
  EXPECT_DOUBLE_EQ(decay_of(groups[1]), 0.0);
}

TEST(TrainingState, SameSeedSameInitialWeights) {
  TrainingState a = make_training_state(gcn_options()), b = make_training_state(gcn_options());
  auto pa = a.model->parameters(), pb = b.model->parameters();
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i]));
}

TEST(TrainingState, ParameterNamesMatchPyG) {
  TrainOptions o = gcn_options();
  o.model.kind = nn::ModelKind::kSage;
  TrainingState state = make_training_state(o);
  std::vector<std::string> names;
  for (const auto& item : state.model->named_parameters()) names.push_back(item.key());
  EXPECT_EQ(names, (std::vector<std::string>{"convs.0.lin_l.weight", "convs.0.lin_l.bias",
                                             "convs.0.lin_r.weight", "convs.1.lin_l.weight",
                                             "convs.1.lin_l.bias", "convs.1.lin_r.weight"}));
}

}  // namespace
}  // namespace edgegnn::train
