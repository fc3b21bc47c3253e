#include "train/inference.h"

#include <gtest/gtest.h>

#include "graph/synthetic.h"
#include "train/step.h"
#include "train/training_state.h"

namespace edgegnn::train {
namespace {

// Layer-wise inference in chunks, with its shortcuts, must give what one
// full-graph forward pass gives. On tiny (16 features, 4 classes), hidden 12
// takes the message path in both layers, holding layer 2's messages and roots
// instead of layer 1's output; hidden 32 runs layer 1 plainly. Both orders of
// the first layer (project every node first, or aggregate each chunk first).
void expect_matches_full_forward(const std::string& kind, int64_t hidden) {
  graph::Graph g = graph::generate_synthetic(graph::synthetic_preset("tiny"), {/*seed=*/2});
  TrainOptions o;
  o.model = {kind, g.num_features, hidden, g.num_classes, /*num_layers=*/2};
  TrainingState state = make_training_state(o);
  GraphTensors tensors(g);
  state.model->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor full = state.model->forward(
      tensors.features, full_layer_graphs(g, 2, state.model->normalization()));
  for (bool project_first : {true, false}) {
    const MemoryLevers levers{/*eval_chunk_nodes=*/37, project_first};
    torch::Tensor chunked = layerwise_inference(state.model, g, tensors, levers);
    EXPECT_TRUE(torch::allclose(torch::log_softmax(chunked, 1), full, 1e-5, 1e-5))
        << kind << " hidden " << hidden << (project_first ? " project-first" : " aggregate-first");
  }
}

TEST(LayerwiseInference, SageInChunksMatchesOneFullForward) {
  expect_matches_full_forward("sage", /*hidden=*/12);
  expect_matches_full_forward("sage", /*hidden=*/32);
}

TEST(LayerwiseInference, GcnInChunksMatchesOneFullForward) {
  expect_matches_full_forward("gcn", /*hidden=*/12);
  expect_matches_full_forward("gcn", /*hidden=*/32);
}

TEST(LayerwiseInference, SplitAccuracyCountsEachMask) {
  graph::Graph g = graph::generate_synthetic(graph::synthetic_preset("tiny"), {/*seed=*/2});
  GraphTensors tensors(g);
  // One-hot outputs of the true labels: every labelled node right.
  torch::Tensor outputs = torch::one_hot(tensors.labels.to(torch::kInt64).clamp_min(0), g.num_classes);
  Accuracy all_right = split_accuracy(outputs.to(torch::kFloat32), g, tensors);
  EXPECT_DOUBLE_EQ(all_right.train, 1.0);
  EXPECT_DOUBLE_EQ(all_right.val, 1.0);
  EXPECT_DOUBLE_EQ(all_right.test, 1.0);
  Accuracy shifted = split_accuracy(outputs.roll(1, 1).to(torch::kFloat32), g, tensors);
  EXPECT_DOUBLE_EQ(shifted.test, 0.0);
}

}  // namespace
}  // namespace edgegnn::train
