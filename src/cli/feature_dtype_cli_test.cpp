// --feature-dtype end to end: compressed features train as float32 does, on
// every strategy, and move fewer bytes between partition ranks.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "test_support/datasets.h"

namespace edgegnn {
namespace {

using test::CommandResult;

const char* const kDtypes[] = {"float32", "float16", "int8"};

nlohmann::json metrics_of(const std::string& args) {
  auto metrics = test::scratch_dir("dtype-run") / "metrics.json";
  CommandResult run =
      test::run_edgegnn("train --quiet --metrics-out " + metrics.string() + " " + args);
  EXPECT_EQ(run.exit_code, 0) << args << "\n" << run.output;
  std::ifstream in(metrics);
  return in.good() ? nlohmann::json::parse(in) : nlohmann::json();
}

nlohmann::json tiny_metrics(const std::string& args) {
  return metrics_of(
      "--dataset synthetic-tiny --hidden 16 --fanouts 5,5 --batch-size 32 "
      "--epochs 5 --dropout 0 " +
      args);
}

TEST(FeatureDtype, CoraTrainsWithinTwoPointsOfFloat32WithEveryDtype) {
  const std::string cora =
      "--dataset cora --threads 1 --root " + (test::datasets_dir() / "planetoid").string();
  // Short runs, to keep the test quick: GraphSAGE 5 epochs, GCN the paper's
  // settings but 40 epochs, evaluated once.
  for (std::string model : {"--model sage --epochs 5", "--model gcn --epochs 40 --eval-every 0"}) {
    std::map<std::string, double> accuracy;
    for (std::string dtype : kDtypes) {
      nlohmann::json run = metrics_of(cora + " " + model + " --feature-dtype " + dtype);
      ASSERT_FALSE(run.is_null()) << model << " " << dtype;
      EXPECT_EQ(run["feature_dtype"], dtype);
      accuracy[dtype] = run["test_acc"].get<double>();
    }
    EXPECT_GT(accuracy["float32"], 0.74) << model;
    for (std::string dtype : {"float16", "int8"})
      EXPECT_NEAR(accuracy[dtype], accuracy["float32"], 0.02) << model << " " << dtype;
  }
}

TEST(FeatureDtype, PipelineComputesWhatSingleDoesOnCompressedFeatures) {
  nlohmann::json single = tiny_metrics("--feature-dtype int8");
  nlohmann::json pipeline = tiny_metrics("--feature-dtype int8 --strategy pipeline --devices 2");
  ASSERT_FALSE(single.is_null());
  ASSERT_FALSE(pipeline.is_null());
  for (size_t e = 0; e < single["epochs"].size(); ++e)
    EXPECT_NEAR(pipeline["epochs"][e]["loss"].get<double>(),
                single["epochs"][e]["loss"].get<double>(), 1e-4)
        << "epoch " << e + 1;
}

TEST(FeatureDtype, PartitionRanksSendCompressedRowsAndCacheMoreOfThem) {
  const auto parts = test::scratch_dir("dtype-parts");
  CommandResult cut =
      test::run_edgegnn("partition --dataset synthetic-tiny --parts 2 --out " + parts.string());
  ASSERT_EQ(cut.exit_code, 0) << cut.output;
  const std::string flags = "--strategy partition --devices 2 --root " + parts.string();
  std::map<std::string, nlohmann::json> runs;
  for (std::string dtype : kDtypes) {
    runs[dtype] = tiny_metrics(flags + " --feature-dtype " + dtype);
    ASSERT_FALSE(runs[dtype].is_null()) << dtype;
    EXPECT_NEAR(runs[dtype]["last_test_acc"].get<double>(),
                runs["float32"]["last_test_acc"].get<double>(), 0.05)
        << dtype;
  }
  auto sent = [&](const std::string& dtype, int rank) {
    return runs[dtype]["per_device"][rank]["training_bytes_sent"].get<int64_t>();
  };
  for (int r = 0; r < 2; ++r) {
    EXPECT_LT(sent("float16", r), sent("float32", r)) << "rank " << r;
    EXPECT_LT(sent("int8", r), sent("float16", r)) << "rank " << r;
  }
  // The cache holds codes: the values do not change, the bytes do.
  nlohmann::json cached = tiny_metrics(flags + " --feature-dtype int8 --feature-cache 2KiB");
  ASSERT_FALSE(cached.is_null());
  for (size_t e = 0; e < cached["epochs"].size(); ++e)
    EXPECT_EQ(cached["epochs"][e]["loss"], runs["int8"]["epochs"][e]["loss"]) << e;
  for (int r = 0; r < 2; ++r)
    EXPECT_LT(cached["per_device"][r]["training_bytes_sent"].get<int64_t>(), sent("int8", r));
}

TEST(FeatureDtype, EvalOfACheckpointOnCompressedFeaturesMatchesTraining) {
  const auto checkpoint = test::scratch_dir("dtype-ckpt");
  nlohmann::json run = tiny_metrics("--feature-dtype float16 --checkpoint " + checkpoint.string());
  ASSERT_FALSE(run.is_null());
  CommandResult eval = test::run_edgegnn(
      "eval --dataset synthetic-tiny --feature-dtype float16 "
      "--checkpoint " +
      checkpoint.string());
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_NE(
      eval.output.find(fmt::format("val {:.4f} test {:.4f}", run["last_val_acc"].get<double>(),
                                   run["last_test_acc"].get<double>())),
      std::string::npos)
      << eval.output;
}

TEST(FeatureDtype, AnUnknownDtypeIsOneErrorLine) {
  for (std::string command : {"train", "eval --checkpoint /tmp"}) {
    CommandResult run =
        test::run_edgegnn(command + " --dataset synthetic-tiny --feature-dtype int4");
    EXPECT_EQ(run.exit_code, 2) << run.output;
    EXPECT_EQ(run.output,
              "edgegnn: error: --feature-dtype: 'int4' is not a feature type "
              "(float32, float16, int8)\n");
  }
}

}  // namespace
}  // namespace edgegnn
