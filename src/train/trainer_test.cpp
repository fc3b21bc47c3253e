#include "train/trainer.h"

#include <gtest/gtest.h>

#include "graph/synthetic.h"
#include "runtime/checkpoint.h"
#include "test_support/datasets.h"
#include "train/single_strategy.h"

namespace edgegnn::train {
namespace {

TrainOptions tiny_sage_options(const graph::Graph& g) {
  TrainOptions o;
  o.dataset = "synthetic-tiny";
  o.model.in_features = g.num_features;
  o.model.num_classes = g.num_classes;
  o.model.hidden = 16;
  o.fanouts = {5, 5};
  o.batch_size = 32;
  o.epochs = 4;
  o.seed = 7;
  o.threads = 2;
  o.progress = false;
  return o;
}

RunRecord train(const graph::Graph& g, const TrainOptions& o, TrainingState& state) {
  SingleStrategy strategy(g, state, o);
  return Trainer(strategy, state, o).run();
}

TEST(Trainer, SageLearnsTheTinySyntheticGraph) {
  graph::Graph g = graph::generate_synthetic(graph::synthetic_preset("tiny"), {/*seed=*/1});
  TrainOptions o = tiny_sage_options(g);
  o.epochs = 20;
  TrainingState state = make_training_state(o);
  RunRecord record = train(g, o, state);
  ASSERT_EQ(record.epochs.size(), 20u);
  EXPECT_LT(record.epochs.back().stats.loss, record.epochs.front().stats.loss);
  EXPECT_GT(record.best_val_acc, 0.6);  // 4 classes: chance is ~0.25
  EXPECT_GT(record.last.test, 0.6);
  EXPECT_EQ(record.epochs.back().stats.num_steps, (180 + 31) / 32);
}

TEST(Trainer, ResumedRunEndsWithTheSameWeightsAsAnUninterruptedOne) {
  graph::Graph g = graph::generate_synthetic(graph::synthetic_preset("tiny"), {/*seed=*/1});
  TrainOptions o = tiny_sage_options(g);
  o.checkpoint_dir = test::scratch_dir("whole").string();
  TrainingState whole = make_training_state(o);
  train(g, o, whole);

  TrainOptions first_half = o;
  first_half.checkpoint_dir = test::scratch_dir("halves").string();
  first_half.epochs = 2;
  TrainingState interrupted = make_training_state(first_half);
  train(g, first_half, interrupted);
  TrainOptions second_half = first_half;
  second_half.epochs = 4;
  second_half.resume = true;
  TrainingState resumed = make_training_state(second_half);
  RunRecord record = train(g, second_half, resumed);

  EXPECT_EQ(record.epochs.size(), 4u);  // history carried over
  auto a = whole.model->named_parameters(), b = resumed.model->named_parameters();
  for (const auto& item : a)
    EXPECT_TRUE(torch::equal(item.value(), b[item.key()])) << item.key();
}

TEST(Trainer, ResumeRefusesACheckpointOfAnotherShape) {
  graph::Graph g = graph::generate_synthetic(graph::synthetic_preset("tiny"), {/*seed=*/1});
  TrainOptions o = tiny_sage_options(g);
  o.epochs = 1;
  o.checkpoint_dir = test::scratch_dir("ckpt").string();
  TrainingState state = make_training_state(o);
  train(g, o, state);
  TrainOptions wider = o;
  wider.model.hidden = 32;
  wider.resume = true;
  wider.epochs = 2;
  TrainingState other = make_training_state(wider);
  try {
    train(g, wider, other);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--resume: checkpoint"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("\"hidden\":32"), std::string::npos) << e.what();
  }
}

TEST(Trainer, CheckpointLoadsBackIntoAFreshModel) {
  graph::Graph g = graph::generate_synthetic(graph::synthetic_preset("tiny"), {/*seed=*/1});
  TrainOptions o = tiny_sage_options(g);
  o.epochs = 1;
  o.checkpoint_dir = test::scratch_dir("ckpt").string();
  TrainingState state = make_training_state(o);
  train(g, o, state);
  EXPECT_EQ(runtime::read_checkpoint_meta(o.checkpoint_dir).at("epoch"), 1);
  nn::GnnModel fresh(o.model);
  runtime::load_checkpoint(o.checkpoint_dir, *fresh, nullptr);
  for (const auto& item : state.model->named_parameters())
    EXPECT_TRUE(torch::equal(item.value(), fresh->named_parameters()[item.key()]));
}

}  // namespace
}  // namespace edgegnn::train
