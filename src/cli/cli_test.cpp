#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "graph/binary_format.h"
#include "test_support/datasets.h"
#include "test_support/graphs.h"
#include "test_support/process.h"
#include "test_support/time_factor.h"

namespace edgegnn {
namespace {

using test::CommandResult;

CommandResult edgegnn(const std::string& args) { return test::run_edgegnn(args); }

std::string planetoid_root() { return (test::datasets_dir() / "planetoid").string(); }

TEST(Cli, InfoOnCoraPrintsItsCounts) {
  CommandResult run = edgegnn("info --dataset cora --root " + planetoid_root());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("2708"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("10556 directed"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("train 140, val 500, test 1000"), std::string::npos) << run.output;
}

TEST(Cli, GenerateThenInfoReadsTheBinaryFormatBack) {
  auto dir = test::scratch_dir("tiny");
  CommandResult gen = edgegnn("generate --preset tiny --seed 3 --out " + dir.string());
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  CommandResult info = edgegnn("info --json --dataset edgegnn --root " + dir.string());
  ASSERT_EQ(info.exit_code, 0) << info.output;
  auto json = nlohmann::json::parse(info.output);
  EXPECT_EQ(json["dataset"], "synthetic-tiny");
  EXPECT_EQ(json["num_nodes"], 300);
  CommandResult same = edgegnn("info --json --dataset synthetic-tiny --seed 3");
  ASSERT_EQ(same.exit_code, 0) << same.output;
  EXPECT_EQ(nlohmann::json::parse(same.output), json);
}

TEST(Cli, NonFiniteFeaturesAreCountedInOneWarning) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  graph::Graph g = test::path_graph();
  g.features = graph::Buffer(std::vector<float>{nan, 2, 3, nan, 5, nan});
  const auto dir = test::scratch_dir("nan");
  graph::write_binary_graph(g, dir);
  CommandResult run = edgegnn("info --dataset edgegnn --root " + dir.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("edgegnn: warning: path: 3 non-finite feature values (NaN or inf)\n"),
            std::string::npos)
      << run.output;
  EXPECT_EQ(run.output.find("warning"), run.output.rfind("warning")) << run.output;
}

// Mean test accuracy on Cora of `train --model <model>` with its defaults over
// `seeds` seeds, which train side by side, one thread each, so that a test
// takes about one seed's time. `extra`: further flags.
double mean_cora_accuracy(const std::string& model, int seeds, const std::string& extra = "") {
  const auto dir = test::scratch_dir("cora-" + model);
  std::vector<std::unique_ptr<test::BackgroundCommand>> runs;
  for (int seed = 0; seed < seeds; ++seed)
    runs.push_back(std::make_unique<test::BackgroundCommand>(
        fmt::format("{} train --quiet --dataset cora --model {} --root {} --seed {} --threads 1 "
                    "--metrics-out {} {}",
                    test::edgegnn_binary(), model, planetoid_root(), seed,
                    (dir / fmt::format("metrics-{}.json", seed)).string(), extra),
        dir / fmt::format("output-{}.log", seed)));
  double sum = 0;
  for (int seed = 0; seed < seeds; ++seed) {
    test::BackgroundCommand& run = *runs[seed];
    EXPECT_EQ(run.wait(test::scaled_seconds(90)), 0) << "seed " << seed << "\n" << run.output();
    EXPECT_EQ(run.output().find("epoch 1/200"), std::string::npos) << "--quiet printed progress";
    std::ifstream in(dir / fmt::format("metrics-{}.json", seed));
    if (!in) return 0;
    auto json = nlohmann::json::parse(in);
    EXPECT_EQ(json["model"], model);
    EXPECT_EQ(json["epochs"].size(), 200u);
    EXPECT_EQ(json["per_device"][0]["role"], "trainer");
    EXPECT_GT(json["per_device"][0]["peak_rss_bytes"].get<int64_t>(), 0);
    sum += json["test_acc"].get<double>();
  }
  return sum / seeds;
}

TEST(Cli, GcnOnCoraMatchesThePaperOverSeeds) {
  // Kipf & Welling report 81.5%; the issue asks a mean of at least 80.5%.
  // A seed is 200 epochs, each evaluated (the best validation epoch's test
  // accuracy counts): about 4 s of one core.
  EXPECT_GE(mean_cora_accuracy("gcn", /*seeds=*/3), 0.805);
}

TEST(Cli, GatOnCoraMatchesThePaperOverSeeds) {
  // Veličković et al. report 83.0 +- 0.7 %; PyG's examples/gat.py settings
  // (the defaults of --model gat) gave a mean of 82.2 % over 10 seeds here
  // (bench/run-gat). The last epoch counts, as in gat.py; ~6 s of one core.
  EXPECT_GE(mean_cora_accuracy("gat", /*seeds=*/3, "--eval-every 0"), 0.81);
}

TEST(Cli, TrainingLearnsTheSameWhateverTheThreadCount) {
  // Sampling, aggregation and dropout split their rows over the threads but
  // key every draw on the element, so 1 and 2 threads train alike; only GEMM
  // sums may round differently. (Until OpenMP was on, our loops ran on one
  // thread whatever --threads said, so this held trivially.)
  std::vector<nlohmann::json> runs;
  for (int threads : {1, 2}) {
    auto metrics = test::scratch_dir(fmt::format("threads-{}", threads)) / "metrics.json";
    CommandResult run = edgegnn(fmt::format(
        "train --quiet --dataset synthetic-reddit-mini --hidden 32 --fanouts 5,5 --epochs 1 "
        "--dropout 0.5 --threads {} --metrics-out {}",
        threads, metrics.string()));
    ASSERT_EQ(run.exit_code, 0) << run.output;
    std::ifstream in(metrics);
    runs.push_back(nlohmann::json::parse(in));
  }
  EXPECT_NEAR(runs[0]["epochs"][0]["loss"].get<double>(),
              runs[1]["epochs"][0]["loss"].get<double>(), 1e-4);
  EXPECT_NEAR(runs[0]["test_acc"].get<double>(), runs[1]["test_acc"].get<double>(), 1e-3);
}

TEST(Cli, EvalReportsTheAccuracyOfACheckpoint) {
  auto dir = test::scratch_dir("ckpt");
  CommandResult run = edgegnn("train --quiet --dataset synthetic-tiny --hidden 16 --fanouts 5,5 "
                              "--batch-size 32 --epochs 3 --checkpoint " + dir.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  CommandResult eval = edgegnn("eval --dataset synthetic-tiny --checkpoint " + dir.string());
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_NE(eval.output.find("epoch 3: train 0."), std::string::npos) << eval.output;
  CommandResult wider = edgegnn("train --quiet --dataset synthetic-tiny --hidden 32 --fanouts 5,5 "
                                "--epochs 4 --resume --checkpoint " + dir.string());
  EXPECT_EQ(wider.exit_code, 2) << wider.output;
  EXPECT_NE(wider.output.find("\"hidden\":16"), std::string::npos) << wider.output;
}

nlohmann::json train_metrics(const std::string& args) {
  auto metrics = test::scratch_dir("run") / "metrics.json";
  CommandResult run = edgegnn("train --quiet --dataset synthetic-tiny --hidden 16 --fanouts 5,5 "
                              "--batch-size 32 --epochs 5 --dropout 0 --metrics-out " +
                              metrics.string() + " " + args);
  EXPECT_EQ(run.exit_code, 0) << args << "\n" << run.output;
  std::ifstream in(metrics);
  return in.good() ? nlohmann::json::parse(in) : nlohmann::json();
}

TEST(Cli, DataParallelMatchesSingleAndKeepsRanksIdentical) {
  nlohmann::json single = train_metrics("");
  ASSERT_FALSE(single.is_null());
  for (std::string backend : {"gloo", "mpi"}) {
    nlohmann::json data = train_metrics("--strategy data --devices 2 --backend " + backend);
    ASSERT_FALSE(data.is_null()) << backend;
    EXPECT_EQ(data["strategy"], "data");
    EXPECT_EQ(data["backend"], backend);
    ASSERT_EQ(data["per_device"].size(), 2u) << backend;
    // Summed slice gradients equal the single-device gradient, so accuracy
    // matches to within a node of the 60 test nodes.
    EXPECT_NEAR(data["last_test_acc"].get<double>(), single["last_test_acc"].get<double>(), 0.02)
        << backend;
    const auto& devices = data["per_device"];
    EXPECT_EQ(devices[0]["parameter_checksum"], devices[1]["parameter_checksum"]) << backend;
    EXPECT_NEAR(devices[0]["parameter_checksum"].get<double>(),
                single["per_device"][0]["parameter_checksum"].get<double>(), 1e-3)
        << backend;
    EXPECT_GT(devices[0]["bytes_sent"].get<int64_t>(), 0) << backend;
  }
}

TEST(Cli, PipelineTrainsAsSingleDoesOnEveryPlacement) {
  nlohmann::json single = train_metrics("");
  ASSERT_FALSE(single.is_null());
  const double weights = single["per_device"][0]["parameter_checksum"].get<double>();
  for (std::string flags : {"--devices 3 --backend gloo", "--devices 3 --backend mpi",
                            "--devices 2 --micro-batches 1",
                            "--devices 3 --placement sampler:2,layer2:0,loss:0"}) {
    nlohmann::json pipeline = train_metrics("--strategy pipeline " + flags);
    ASSERT_FALSE(pipeline.is_null()) << flags;
    EXPECT_EQ(pipeline["strategy"], "pipeline");
    // Micro-batch gradients add up to the batch's: the same losses and
    // weights as single, up to float summation order.
    for (size_t e = 0; e < single["epochs"].size(); ++e)
      EXPECT_NEAR(pipeline["epochs"][e]["loss"].get<double>(),
                  single["epochs"][e]["loss"].get<double>(), 1e-4)
          << flags << " epoch " << e + 1;
    EXPECT_NEAR(pipeline["last_test_acc"].get<double>(), single["last_test_acc"].get<double>(),
                0.02)
        << flags;
    for (const auto& device : pipeline["per_device"])
      EXPECT_NEAR(device["parameter_checksum"].get<double>(), weights, 1e-5 * weights)
          << flags << " rank " << device["rank"];
  }
  nlohmann::json three = train_metrics("--strategy pipeline --devices 3");
  ASSERT_EQ(three["per_device"].size(), 3u);
  EXPECT_EQ(three["per_device"][0]["role"], "sampler");
  EXPECT_EQ(three["per_device"][1]["role"], "features+layer1");
  EXPECT_EQ(three["per_device"][2]["role"], "layer2+loss");
  // Activations go forward to the last rank, gradients come back.
  EXPECT_GT(three["per_device"][2]["bytes_sent"].get<int64_t>(), 0);
}

// synthetic-tiny cut into `parts` parts by METIS, once per test process.
std::string tiny_partition(int parts) {
  const auto dir = test::scratch_dir(fmt::format("tiny-parts-{}", parts));
  CommandResult run = edgegnn(fmt::format("partition --dataset synthetic-tiny --parts {} --out {}",
                                          parts, dir.string()));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  return dir.string();
}

// GAT (two heads of 16, no dropout, so runs can be compared) on every
// strategy: data parallel and the pipeline take the steps single takes;
// partition learns as well, and layer-wise inference over its parts gives
// what the whole graph gives.
TEST(Cli, GatTrainsOnEveryStrategyAsSingleDoes) {
  const std::string gat =
      "--model gat --heads 2 --lr 0.01 --input-dropout 0 --attention-dropout 0 ";
  nlohmann::json single = train_metrics(gat);
  ASSERT_FALSE(single.is_null());
  EXPECT_GT(single["last_test_acc"].get<double>(), 0.5);
  const double weights = single["per_device"][0]["parameter_checksum"].get<double>();
  for (std::string flags :
       {"--strategy data --devices 2", "--strategy data --devices 2 --backend mpi",
        "--strategy pipeline --devices 3"}) {
    nlohmann::json run = train_metrics(gat + flags);
    ASSERT_FALSE(run.is_null()) << flags;
    for (size_t e = 0; e < single["epochs"].size(); ++e)
      EXPECT_NEAR(run["epochs"][e]["loss"].get<double>(), single["epochs"][e]["loss"].get<double>(),
                  1e-4)
          << flags << " epoch " << e + 1;
    for (const auto& device : run["per_device"])
      EXPECT_NEAR(device["parameter_checksum"].get<double>(), weights, 1e-4 * std::abs(weights))
          << flags << " rank " << device["rank"];
  }
  auto checkpoint = test::scratch_dir("gat-partition-ckpt");
  nlohmann::json part = train_metrics(gat + "--strategy partition --devices 2 --root " +
                                      tiny_partition(2) + " --checkpoint " + checkpoint.string());
  ASSERT_FALSE(part.is_null());
  EXPECT_NEAR(part["last_test_acc"].get<double>(), single["last_test_acc"].get<double>(), 0.05);
  CommandResult eval = edgegnn(
      "eval --dataset synthetic-tiny --feature-dtype float16 --checkpoint " + checkpoint.string());
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_NE(
      eval.output.find(fmt::format("val {:.4f} test {:.4f}", part["last_val_acc"].get<double>(),
                                   part["last_test_acc"].get<double>())),
      std::string::npos)
      << eval.output;
}

TEST(Cli, PartitionTrainsAsSingleAndEvaluatesAsTheWholeGraphDoes) {
  const std::string parts = tiny_partition(2);
  nlohmann::json single = train_metrics("");
  auto checkpoint = test::scratch_dir("partition-ckpt");
  for (std::string backend : {"gloo", "mpi"}) {
    nlohmann::json run = train_metrics("--strategy partition --devices 2 --root " + parts +
                                       " --backend " + backend + " --checkpoint " +
                                       checkpoint.string());
    ASSERT_FALSE(run.is_null()) << backend;
    EXPECT_EQ(run["strategy"], "partition");
    EXPECT_EQ(run["feature_dtype"], "float16") << "partition's default";
    EXPECT_NEAR(run["last_test_acc"].get<double>(), single["last_test_acc"].get<double>(), 0.05)
        << backend;
    const auto& devices = run["per_device"];
    ASSERT_EQ(devices.size(), 2u);
    EXPECT_EQ(devices[0]["parameter_checksum"], devices[1]["parameter_checksum"]) << backend;
    EXPECT_GT(devices[1]["training_bytes_sent"].get<int64_t>(), 0) << backend;
    EXPECT_GT(devices[1]["training_cpu_seconds"].get<double>(), 0) << backend;
    // Layer-wise inference over the parts, halos exchanged, gives what the
    // whole graph gives with the same weights and features.
    CommandResult eval = edgegnn("eval --dataset synthetic-tiny --feature-dtype float16 --checkpoint " +
                                 checkpoint.string());
    ASSERT_EQ(eval.exit_code, 0) << eval.output;
    EXPECT_NE(eval.output.find(fmt::format("val {:.4f} test {:.4f}",
                                           run["last_val_acc"].get<double>(),
                                           run["last_test_acc"].get<double>())),
              std::string::npos)
        << backend << "\n" << eval.output;
  }
}

TEST(Cli, TheFeatureCacheSavesBytesAndChangesNoValue) {
  const std::string parts = tiny_partition(2);
  const std::string flags = "--strategy partition --devices 2 --root " + parts;
  nlohmann::json plain = train_metrics(flags);
  nlohmann::json cached = train_metrics(flags + " --feature-cache 4KiB");
  ASSERT_FALSE(plain.is_null());
  ASSERT_FALSE(cached.is_null());
  for (size_t e = 0; e < plain["epochs"].size(); ++e)
    EXPECT_EQ(cached["epochs"][e]["loss"], plain["epochs"][e]["loss"]) << e;
  for (int r = 0; r < 2; ++r)
    EXPECT_LT(cached["per_device"][r]["training_bytes_sent"].get<int64_t>(),
              plain["per_device"][r]["training_bytes_sent"].get<int64_t>())
        << "rank " << r;
}

// Steps made ahead, over a second channel, are the steps made in series:
// the same losses, weights and bytes, on both backends.
TEST(Cli, PartitionStepsMadeAheadChangeNoValue) {
  const std::string parts = tiny_partition(2);
  for (std::string backend : {"gloo", "mpi"}) {
    const std::string flags =
        "--strategy partition --devices 2 --root " + parts + " --backend " + backend;
    nlohmann::json serial = train_metrics(flags + " --sampler-queue 0");
    ASSERT_FALSE(serial.is_null()) << backend;
    for (int depth : {1, 2}) {
      nlohmann::json ahead = train_metrics(flags + fmt::format(" --sampler-queue {}", depth));
      ASSERT_FALSE(ahead.is_null()) << backend << " " << depth;
      ASSERT_EQ(ahead["epochs"].size(), serial["epochs"].size());
      for (size_t e = 0; e < serial["epochs"].size(); ++e) {
        EXPECT_EQ(ahead["epochs"][e]["loss"], serial["epochs"][e]["loss"]) << backend << " " << e;
        EXPECT_GT(ahead["epochs"][e]["transfer_seconds"].get<double>(), 0) << backend;
        // Rank 0 is one of the ranks whose slowest step computes are summed.
        EXPECT_GE(ahead["epochs"][e]["slowest_compute_seconds"].get<double>(),
                  ahead["epochs"][e]["compute_seconds"].get<double>())
            << backend;
      }
      for (int r = 0; r < 2; ++r) {
        EXPECT_EQ(ahead["per_device"][r]["parameter_checksum"],
                  serial["per_device"][r]["parameter_checksum"]);
        EXPECT_EQ(ahead["per_device"][r]["training_bytes_sent"],
                  serial["per_device"][r]["training_bytes_sent"]);
      }
    }
  }
}

TEST(Cli, PartitionRefusesAnotherDatasetAWrongRankCountAndAMissingPart) {
  const std::string parts = tiny_partition(2);
  CommandResult other = edgegnn("train --quiet --dataset synthetic-reddit-mini --strategy partition "
                                "--devices 2 --root " + parts);
  EXPECT_EQ(other.exit_code, 2) << other.output;
  EXPECT_NE(other.output.find("synthetic-tiny"), std::string::npos) << other.output;
  CommandResult three = edgegnn("train --quiet --dataset synthetic-tiny --strategy partition "
                                "--devices 3 --root " + parts);
  EXPECT_EQ(three.exit_code, 2) << three.output;
  EXPECT_NE(three.output.find("2 parts"), std::string::npos) << three.output;
  const auto broken = test::scratch_dir("broken-parts");
  std::filesystem::copy(parts, broken, std::filesystem::copy_options::recursive);
  std::filesystem::remove_all(broken / "part-1");
  CommandResult missing = edgegnn("train --quiet --dataset synthetic-tiny --strategy partition "
                                  "--devices 2 --root " + broken.string());
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("part-1"), std::string::npos) << missing.output;
  EXPECT_EQ(std::count(missing.output.begin(), missing.output.end(), '\n'), 1) << missing.output;
}

// Trains on 3 local devices with `flags` and, once rank 0 has logged its
// first epoch (so every rank trains: each step waits for all), SIGKILLs rank
// 2. The launcher must stop the others at once, long before their own
// --comm-timeout would.
CommandResult kill_rank_two(const std::string& flags) {
  const double stop_seconds = test::scaled_seconds(5);
  test::BackgroundCommand train(
      fmt::format("{} train --dataset synthetic-reddit-mini --devices 3 --epochs 50 "
                  "--eval-every 0 {} --comm-timeout {:.0f}",
                  test::edgegnn_binary(), flags, 4 * stop_seconds),
      test::scratch_dir("kill") / "output.log");
  if (!train.wait_for_output("epoch 1/50 ", test::scaled_seconds(60))) {
    ADD_FAILURE() << "no epoch logged\n" << train.output();
    return {-1, train.output()};
  }
  const pid_t rank_two = test::child_with_environment(train.pid(), "RANK=2");
  if (rank_two <= 0) {
    ADD_FAILURE() << "the launcher has no rank 2\n" << train.output();
    return {-1, train.output()};
  }
  ::kill(rank_two, SIGKILL);
  const int exit_code = train.wait(stop_seconds);
  const CommandResult run{exit_code, train.output()};
  EXPECT_NE(run.exit_code, -1) << "still running " << stop_seconds << " s after rank 2 was killed\n"
                               << run.output;
  EXPECT_NE(run.exit_code, 0) << run.output;
  return run;
}

TEST(Cli, AKilledWorkerStopsTheRunNamingIt) {
  CommandResult run = kill_rank_two("--strategy data");
  EXPECT_NE(run.output.find("rank 2 was killed by signal 9"), std::string::npos) << run.output;
}

TEST(Cli, PipelineResumesFromRankZerosCheckpointAsIfUninterrupted) {
  // Every rank holds every layer's weights and Adam state after an epoch, so
  // rank 0's checkpoint is the whole model.
  auto dir = test::scratch_dir("pipeline-ckpt");
  const std::string pipeline = "--strategy pipeline --devices 3 ";
  nlohmann::json whole = train_metrics(pipeline);
  ASSERT_FALSE(whole.is_null());
  CommandResult first = edgegnn("train --quiet --dataset synthetic-tiny --hidden 16 --fanouts 5,5 "
                                "--batch-size 32 --epochs 3 --dropout 0 --checkpoint " +
                                dir.string() + " " + pipeline);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  nlohmann::json resumed = train_metrics(pipeline + "--resume --checkpoint " + dir.string());
  ASSERT_FALSE(resumed.is_null());
  ASSERT_EQ(resumed["epochs"].size(), whole["epochs"].size());
  for (size_t e = 3; e < whole["epochs"].size(); ++e)
    EXPECT_NEAR(resumed["epochs"][e]["loss"].get<double>(), whole["epochs"][e]["loss"].get<double>(),
                1e-6)
        << "epoch " << e + 1;
  EXPECT_EQ(resumed["per_device"][2]["parameter_checksum"], whole["per_device"][2]["parameter_checksum"]);
}

TEST(Cli, APipelineStageKilledStopsTheRunNamingItsRoles) {
  CommandResult run = kill_rank_two("--strategy pipeline");
  EXPECT_NE(run.output.find("rank 2 (layer2+loss) was killed by signal 9"), std::string::npos)
      << run.output;
}

// Past the planner (--force), each device's RSS watch stops it. One thread
// each, so that the peak does not grow with the core count.
TEST(Cli, ABudgetSmallerThanTheGraphStopsTheDeviceWithItsRank) {
  CommandResult run = edgegnn(
      "train --dataset synthetic-reddit-mini --strategy data --devices 2 --threads 1 "
      "--memory-budget 100MiB --force");
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("crossed the budget of 100.0 MiB"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("rank "), std::string::npos) << run.output;
}

struct BadInput {
  std::string args;
  std::string message;  // expected in the one error line
};

// Named by its flags in test listings, not as a byte dump.
void PrintTo(const BadInput& b, std::ostream* out) { *out << b.args; }

class CliBadInput : public ::testing::TestWithParam<BadInput> {};

TEST_P(CliBadInput, PrintsOneErrorLineAndExits2) {
  CommandResult run = edgegnn(GetParam().args);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_EQ(run.output.rfind("edgegnn: error: ", 0), 0u) << run.output;
  EXPECT_EQ(std::count(run.output.begin(), run.output.end(), '\n'), 1) << run.output;
  EXPECT_NE(run.output.find(GetParam().message), std::string::npos) << run.output;
}

INSTANTIATE_TEST_SUITE_P(
    Flags, CliBadInput,
    ::testing::Values(
        BadInput{"info --dataset nope", "unknown dataset 'nope'"},
        BadInput{"info --dataset cora", "--root"},
        BadInput{"info --dataset cora --root /nonexistent/dir", "/nonexistent/dir"},
        BadInput{"info --dataset pubmed --root " + planetoid_root(), "ind.pubmed.allx"},
        BadInput{"info --dataset edgegnn --root /tmp", "manifest.json"},
        BadInput{"info --dataset synthetic-tiny --bogus", "--bogus"},
        BadInput{"generate --preset huge --out /tmp/x", "reddit-mini"},
        BadInput{"generate --preset tiny --threads -1 --out /tmp/x", "--threads"},
        BadInput{"generate --preset products --scale 2 --out /tmp/x",
                 "--scale: 2 is not in (0, 1]"},
        BadInput{"info --dataset edgelist --root /nonexistent.txt", "/nonexistent.txt"},
        BadInput{"generate --preset tiny --out /proc/edgegnn", "/proc/edgegnn"},
        BadInput{"", "subcommand"},
        BadInput{"train --dataset synthetic-tiny --model gin", "--model: unknown model 'gin'"},
        BadInput{"train --dataset synthetic-tiny --model gat --heads 0",
                 "--heads: 0 is not a positive head count"},
        BadInput{"train --dataset synthetic-tiny --heads 4",
                 "--heads: 4 heads, but --model sage has none"},
        BadInput{"train --dataset synthetic-tiny --model gat --attention-dropout 1",
                 "--attention-dropout: 1 is not in [0, 1)"},
        BadInput{"train --dataset synthetic-tiny --model gcn --attention-dropout 0.5",
                 "--attention-dropout: --model gcn has no attention"},
        BadInput{"train --dataset synthetic-tiny --fanouts 5,5,5",
                 "--fanouts: 3 fanouts for 2 layers"},
        BadInput{"train --dataset synthetic-tiny --batch-size 0", "--batch-size: 0"},
        BadInput{"train --dataset cora", "--root"},
        BadInput{"train --dataset synthetic-tiny --resume", "--resume: needs --checkpoint"},
        BadInput{"train --dataset synthetic-tiny --resume --checkpoint /nonexistent",
                 "/nonexistent"},
        BadInput{"train --dataset synthetic-tiny --strategy hybrid", "--strategy: 'hybrid'"},
        BadInput{"train --dataset synthetic-tiny --strategy partition --devices 2",
                 "--strategy partition: needs --root"},
        BadInput{"train --dataset synthetic-tiny --strategy pipeline --devices 4",
                 "runs on 1 to 3 devices"},
        BadInput{
            "train --dataset synthetic-tiny --strategy pipeline --devices 3 --placement features:2",
            "must share a rank"},
        BadInput{"train --dataset synthetic-tiny --strategy data --placement sampler:0",
                 "--placement: only for --strategy pipeline"},
        BadInput{"train --dataset synthetic-tiny --strategy pipeline --micro-batches 0",
                 "--micro-batches: 0"},
        BadInput{"train --dataset synthetic-tiny --strategy data --backend nccl",
                 "--backend: unknown backend 'nccl'"},
        BadInput{"train --dataset synthetic-tiny --devices 2", "--devices: 2 devices need"},
        BadInput{"train --dataset synthetic-tiny --memory-budget 12XB",
                 "--memory-budget: '12XB' is not a size"},
        BadInput{"train --dataset synthetic-tiny --eval-chunk 0",
                 "--eval-chunk: 0 is not a positive node count"},
        BadInput{"train --dataset synthetic-tiny --sampler-queue -1",
                 "--sampler-queue: -1 is a negative"},
        BadInput{"train --dataset synthetic-tiny --eval-order sideways",
                 "--eval-order: 'sideways' is not an order"},
        BadInput{"plan --dataset synthetic-tiny --eval-order sideways", "--eval-order: 'sideways'"},
        BadInput{"eval --dataset synthetic-tiny --checkpoint /nonexistent --eval-chunk -3",
                 "--eval-chunk: -3"},
        BadInput{"eval --dataset synthetic-tiny --checkpoint /nonexistent", "/nonexistent"}),
    [](const ::testing::TestParamInfo<BadInput>& info) { return std::to_string(info.index); });

}  // namespace
}  // namespace edgegnn
