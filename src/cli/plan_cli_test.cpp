// End-to-end tests of `edgegnn plan` and of `train --memory-budget` refusing a
// plan that does not fit. Runs under a budget pin --threads 1, so that their
// peak does not grow with the machine's core count.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "test_support/datasets.h"
#include "train/memory_plan.h"

namespace edgegnn {
namespace {

using test::CommandResult;

CommandResult edgegnn(const std::string& args) { return test::run_edgegnn(args); }

TEST(PlanCli, PlansEveryStrategyPerRankAndRecommendsOne) {
  CommandResult run = edgegnn("plan --dataset synthetic-tiny --devices 3 --memory-budget 4GiB");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const char* line : {"single        0  all", "data          0  replica",
                           "pipeline      0  sampler", "features+layer1", "partition     0  part 0",
                           "recommended: single"})
    EXPECT_NE(run.output.find(line), std::string::npos) << line << "\n" << run.output;

  CommandResult json = edgegnn("plan --dataset synthetic-tiny --devices 3 --strategy pipeline "
                               "--memory-budget 100MiB --json");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  const auto plan = nlohmann::json::parse(json.output);
  ASSERT_EQ(plan["strategies"].size(), 1u);
  const auto& pipeline = plan["strategies"][0];
  EXPECT_EQ(pipeline["ranks"].size(), 3u);
  EXPECT_EQ(pipeline["fits"], false);  // the process alone takes more
  EXPECT_EQ(plan["recommended"], "");
  EXPECT_GT(pipeline["ranks"][0]["structure_bytes"].get<int64_t>(), 0);
  EXPECT_EQ(pipeline["ranks"][0]["features_bytes"].get<int64_t>(), 0);
}

// Each strategy is planned with its own default feature dtype (partition's
// rows cross the link: float16), unless --feature-dtype fixes one for all.
TEST(PlanCli, PlansEachStrategyWithItsDefaultFeatureDtype) {
  auto planned = [](const std::string& flags) {
    CommandResult run = edgegnn("plan --dataset synthetic-tiny --devices 2 --json" + flags);
    EXPECT_EQ(run.exit_code, 0) << run.output;
    std::map<std::string, nlohmann::json> by_strategy;
    const auto plan = nlohmann::json::parse(run.output);
    for (const auto& s : plan["strategies"])
      by_strategy[s["strategy"].get<std::string>()] = s;
    return by_strategy;
  };
  auto defaults = planned("");
  EXPECT_EQ(defaults["data"]["feature_dtype"], "float32");
  EXPECT_EQ(defaults["partition"]["feature_dtype"], "float16");
  auto int8 = planned(" --feature-dtype int8");
  EXPECT_EQ(int8["data"]["feature_dtype"], "int8");
  EXPECT_EQ(int8["partition"]["feature_dtype"], "int8");
  // Half the bytes per row: the features it holds and sends shrink.
  auto f32 = planned(" --feature-dtype float32");
  const auto& half = defaults["partition"]["ranks"][0];
  const auto& full = f32["partition"]["ranks"][0];
  EXPECT_EQ(2 * half["features_bytes"].get<int64_t>(), full["features_bytes"].get<int64_t>());
  EXPECT_LT(half["bytes_sent_per_epoch"].get<int64_t>(), full["bytes_sent_per_epoch"].get<int64_t>());
}

// On boards, each strategy's epoch is timed and the fastest that fits is
// recommended (issue 19).
TEST(PlanCli, OnBoardsItTimesEveryStrategyAndRecommendsTheFastestThatFits) {
  CommandResult text = edgegnn("plan --dataset synthetic-tiny --devices 2 --emulate pi4-1g");
  ASSERT_EQ(text.exit_code, 0) << text.output;
  for (const char* line :
       {"time model: rates of pi4-1g (published figures, docs/board-profiles.md)", "links 1gbit",
        "s per training epoch", "s/step", "(fits, fastest: "})
    EXPECT_NE(text.output.find(line), std::string::npos) << line << "\n" << text.output;

  CommandResult json = edgegnn("plan --dataset synthetic-tiny --devices 2 --emulate pi4-1g --json");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  const auto plan = nlohmann::json::parse(json.output);
  ASSERT_EQ(plan["timed"], true);
  std::string fastest;
  double fastest_seconds = 1e300;
  for (const auto& s : plan["strategies"]) {
    if (!s["runnable"]) continue;
    const double seconds = s["seconds_per_epoch"];
    EXPECT_GT(seconds, 0) << s["strategy"];
    if (s["fits"] && seconds < fastest_seconds) {
      fastest_seconds = seconds;
      fastest = s["strategy"];
    }
  }
  EXPECT_EQ(plan["recommended"], fastest) << plan["recommended_because"];
}

// A profile's rates divide each rank's work: an epoch is its steps times the
// work of one over the rates, on a link of the profile's rate.
TEST(PlanCli, AProfileTimesTheWorkOfEachStep) {
  const auto profile = test::scratch_dir("plan-profile") / "profile.json";
  std::ofstream(profile) << R"({"cores": 2, "link_bits_per_second": 8e6, "rates": [
      {"threads": 2, "gemm_gflops": 20, "output_gemm_gflops": 10,
       "aggregation_bytes_per_second": 4e9, "sampled_edges_per_second": 2e6}]})";
  CommandResult json = edgegnn(
      "plan --dataset synthetic-tiny --devices 2 --strategy data --json "
      "--profile " +
      profile.string());
  ASSERT_EQ(json.exit_code, 0) << json.output;
  const auto plan = nlohmann::json::parse(json.output);
  const auto& data = plan["strategies"][0];
  const auto& rank = data["ranks"][0];
  const auto& w = rank["step_work"];
  const double step =
      w["wide_flops"].get<double>() / 20e9 + w["narrow_flops"].get<double>() / 10e9 +
      (w["aggregation_bytes"].get<double>() + w["elementwise_bytes"].get<double>()) / 4e9 +
      w["sampled_edges"].get<double>() / 2e6 + w["sent_bytes"].get<double>() * 8 / 8e6;
  ASSERT_GT(w["sent_bytes"].get<double>(), 0);  // the gradients' allreduce
  EXPECT_NEAR(rank["seconds_per_step"].get<double>(), step, 1e-9 * step);
  EXPECT_NEAR(data["seconds_per_epoch"].get<double>(), data["steps_per_epoch"].get<double>() * step,
              1e-9 * step * data["steps_per_epoch"].get<double>());

  CommandResult three = edgegnn("plan --dataset synthetic-tiny --devices 2 --profile " +
                                profile.string() + "," + profile.string() + "," + profile.string());
  EXPECT_EQ(three.exit_code, 2);
  EXPECT_NE(three.output.find("--profile: 3 files for 2 devices (give one for all, or one per "
                              "device)"),
            std::string::npos)
      << three.output;
  CommandResult custom =
      edgegnn("plan --dataset synthetic-tiny --devices 2 --emulate custom:1GiB/100mbit");
  // A custom board has no published rates: its plan is untimed, and says how to time it.
  EXPECT_EQ(custom.exit_code, 0) << custom.output;
  EXPECT_NE(custom.output.find("time per epoch: give --emulate BOARD, or --profile FILE"),
            std::string::npos)
      << custom.output;
}

// The planner's bytes for data parallelism are what the run sends.
TEST(PlanCli, DataParallelBytesMatchTheRun) {
  CommandResult json = edgegnn("plan --dataset synthetic-tiny --devices 2 --strategy data --json");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  const int64_t planned = nlohmann::json::parse(json.output)["strategies"][0]["ranks"][1]
                                                             ["bytes_sent_per_epoch"];
  const auto metrics = test::scratch_dir("plan-metrics") / "metrics.json";
  CommandResult run = edgegnn("train --dataset synthetic-tiny --strategy data --devices 2 "
                              "--epochs 2 --eval-every 0 --quiet --metrics-out " +
                              metrics.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::ifstream in(metrics);
  const auto m = nlohmann::json::parse(in);
  const double sent = m["per_device"][1]["training_bytes_sent"].get<double>() / 2;
  EXPECT_NEAR(sent, planned, 0.02 * planned) << "planned " << planned;
}

int64_t planned_peak(const std::string& flags) {
  CommandResult json = edgegnn("plan " + flags + " --json");
  EXPECT_EQ(json.exit_code, 0) << json.output;
  return nlohmann::json::parse(json.output)["strategies"][0]["largest_peak_bytes"];
}

// A budget whose headroom the default levers' plan misses and a smaller
// evaluation chunk's keeps (evaluation sets the peak of a reddit-mini replica
// training slices of 256 seeds): the launcher sizes the chunk and its workers
// train with it.
TEST(PlanCli, TrainRunsWithTheLeversSizedToItsBudget) {
  const std::string run_flags =
      "--dataset synthetic-reddit-mini --strategy data --devices 2 --threads 1 --batch-size 512";
  const int64_t peak = planned_peak(run_flags);
  // Evaluation sets this run's peak: smaller chunks lower it.
  const int64_t shorter = planned_peak(run_flags + " --eval-chunk 4096");
  ASSERT_LT(shorter, peak);
  const std::string budget =
      std::to_string(static_cast<int64_t>((peak + shorter) / 2 / (1 - train::kSizingHeadroom)));

  CommandResult sized = edgegnn("plan " + run_flags + " --memory-budget " + budget + " --json");
  ASSERT_EQ(sized.exit_code, 0) << sized.output;
  const auto levers = nlohmann::json::parse(sized.output)["strategies"][0]["levers"];
  EXPECT_EQ(levers["sampler_queue_depth"], 2) << levers;
  EXPECT_EQ(levers["eval_chunk_nodes"], 4096) << levers;
  EXPECT_EQ(levers["eval_order"], "project-first") << levers;
  EXPECT_EQ(levers["sized"], true);

  const auto metrics = test::scratch_dir("plan-levers") / "metrics.json";
  CommandResult run = edgegnn("train " + run_flags + " --epochs 1 --memory-budget " + budget +
                              " --metrics-out " + metrics.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("with --feature-dtype float32 --eval-chunk 4096 --eval-order "
                            "project-first --sampler-queue 2 (sized to fit)"),
            std::string::npos)
      << run.output;
  EXPECT_EQ(run.output.find("warning"), std::string::npos) << run.output;
  std::ifstream in(metrics);
  const auto m = nlohmann::json::parse(in);
  EXPECT_EQ(m["levers"]["eval_chunk_nodes"], 4096) << m["levers"];  // rank 0, a worker, wrote it

  // A lever given is kept: under the default plan's peak, the plan no longer
  // fits, and says so before any worker starts.
  CommandResult kept = edgegnn("train " + run_flags +
                               " --epochs 1 --eval-chunk 8192 --eval-order project-first "
                               "--memory-budget " + std::to_string(peak - 1));
  EXPECT_EQ(kept.exit_code, 2) << kept.output;
  EXPECT_NE(kept.output.find("the plan for --strategy data on 2 device(s) needs"), std::string::npos)
      << kept.output;
  EXPECT_EQ(kept.output.find("[rank"), std::string::npos) << kept.output;
}

// Where no setting leaves the headroom, the run goes on with a warning.
TEST(PlanCli, TrainWarnsWhenThePlanFitsWithLittleToSpare) {
  const int64_t peak = planned_peak("--dataset synthetic-tiny --strategy single --threads 1");
  CommandResult run = edgegnn("train --dataset synthetic-tiny --epochs 1 --threads 1 " +
                              ("--memory-budget " + std::to_string(peak + (1 << 20))));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("edgegnn: warning: --memory-budget "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("less than 12 % under the budget"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("test accuracy"), std::string::npos) << run.output;
}

TEST(PlanCli, TrainRefusesAPlanOverItsBudgetUnlessForced) {
  CommandResult refused =
      edgegnn("train --dataset synthetic-tiny --epochs 1 --threads 1 --memory-budget 120MiB");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("edgegnn: error: --memory-budget 120.0 MiB: the plan for "
                                "--strategy single on 1 device(s) needs"),
            std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("rank 0 (all)"), std::string::npos) << refused.output;
  EXPECT_EQ(refused.output.find("test accuracy"), std::string::npos) << refused.output;

  // Forced, it runs into the RSS watch instead.
  CommandResult forced = edgegnn(
      "train --dataset synthetic-tiny --epochs 1 --threads 1 --memory-budget 120MiB --force");
  EXPECT_EQ(forced.exit_code, 3) << forced.output;
  EXPECT_NE(forced.output.find("crossed the budget of 120.0 MiB"), std::string::npos)
      << forced.output;

  // Distributed: refused before any worker starts.
  CommandResult data = edgegnn(
      "train --dataset synthetic-tiny --strategy data --devices 2 --epochs 1 --threads 1 "
      "--memory-budget 120MiB");
  EXPECT_EQ(data.exit_code, 2) << data.output;
  EXPECT_NE(data.output.find("the plan for --strategy data on 2 device(s)"), std::string::npos)
      << data.output;
  EXPECT_EQ(data.output.find("[rank"), std::string::npos) << data.output;
}

}  // namespace
}  // namespace edgegnn
