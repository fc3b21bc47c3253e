// End-to-end tests of `edgegnn partition`.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_support/datasets.h"

namespace edgegnn {
namespace {

namespace fs = std::filesystem;

using test::CommandResult;

CommandResult edgegnn(const std::string& args) { return test::run_edgegnn(args); }

TEST(PartitionCli, PartitionsAndEachPartOpensWithInfo) {
  auto dir = test::scratch_dir("parts");
  CommandResult run = edgegnn("partition --dataset synthetic-tiny --parts 3 --out " + dir.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("writing part 3/3"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("undirected edges"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("balance       nodes 1.0"), std::string::npos) << run.output;

  std::ifstream in(dir / "partition.json");
  auto book = nlohmann::json::parse(in);
  EXPECT_EQ(book["magic"], "edgegnn-partition");
  EXPECT_EQ(book["dataset"]["name"], "synthetic-tiny");
  EXPECT_EQ(book["num_parts"], 3);
  EXPECT_EQ(book["method"], "metis");
  int64_t nodes = 0;
  for (int k = 0; k < 3; ++k) {
    const auto& part = book["summary"]["parts"][k];
    CommandResult info = edgegnn("info --json --dataset edgegnn --root " +
                                 (dir / part["directory"].get<std::string>()).string());
    ASSERT_EQ(info.exit_code, 0) << info.output;
    auto json = nlohmann::json::parse(info.output);
    EXPECT_EQ(json["dataset"], "synthetic-tiny");
    EXPECT_EQ(json["num_nodes"], part["num_nodes"]);
    EXPECT_EQ(json["num_edges"], part["num_edges"]);
    EXPECT_EQ(json["num_train"], part["num_train"]);
    nodes += json["num_nodes"].get<int64_t>();
  }
  EXPECT_EQ(nodes, 300);
}

TEST(PartitionCli, JsonPrintsTheBookWithTimings) {
  auto dir = test::scratch_dir("parts");
  // stdout alone goes to the file; progress (stderr) stays in the output.
  CommandResult run;
  const auto start = std::chrono::steady_clock::now();
  run.exit_code = test::run_command(
      "{ " + test::edgegnn_binary() +
          " partition --json --dataset synthetic-tiny --parts 2 --method random --seed 5 --out " +
          (dir / "p").string() + " > " + (dir / "out.json").string() + "; }",
      &run.output);
  const double run_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("writing part 2/2"), std::string::npos) << run.output;
  std::ifstream in(dir / "out.json");
  auto json = nlohmann::json::parse(in);
  EXPECT_EQ(json["method"], "random");
  EXPECT_EQ(json["seed"], 5);
  EXPECT_EQ(json["summary"]["parts"][0]["num_nodes"], 150);
  EXPECT_EQ(json["summary"]["balance"]["nodes"], 1.0);
  // Each phase took some time, and together no more than the whole command.
  double phases_seconds = 0;
  for (const char* phase : {"load", "partition", "write"}) {
    const double seconds = json["seconds"][phase].get<double>();
    EXPECT_GT(seconds, 0.0) << phase;
    phases_seconds += seconds;
  }
  EXPECT_LE(phases_seconds, run_seconds);
  EXPECT_GT(json["peak_rss_bytes"].get<int64_t>(), 0);
}

TEST(PartitionCli, TrainingOnAVersionOnePartitionAsksToPartitionAgain) {
  auto dir = test::scratch_dir("parts");
  CommandResult run = edgegnn("partition --dataset synthetic-tiny --parts 2 --out " + dir.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::ifstream in(dir / "partition.json");
  nlohmann::json book = nlohmann::json::parse(in);
  in.close();
  EXPECT_EQ(book["format_version"], 2);
  EXPECT_EQ(book["offsets"].size(), 3u);
  book["format_version"] = 1;
  std::ofstream(dir / "partition.json") << book.dump(2);
  CommandResult train = edgegnn("train --quiet --dataset synthetic-tiny --strategy partition "
                                "--devices 2 --root " + dir.string());
  EXPECT_EQ(train.exit_code, 2) << train.output;
  EXPECT_EQ(train.output, "edgegnn: error: partition " + dir.string() +
                              " has format version 1, older than this edgegnn's 2: re-run "
                              "'edgegnn partition' to write it again\n");
}

struct BadPartition {
  std::string args;
  std::string message;  // expected in the one error line
};

// Named by its flags in test listings, not as a byte dump.
void PrintTo(const BadPartition& b, std::ostream* out) { *out << b.args; }

class PartitionCliBadInput : public ::testing::TestWithParam<BadPartition> {};

TEST_P(PartitionCliBadInput, PrintsOneErrorLineAndExits2) {
  auto dir = test::scratch_dir("bad");
  std::ofstream(dir / "file") << "x";
  auto with_dir = [&](std::string text) {
    for (size_t at; (at = text.find("DIR")) != std::string::npos;)
      text.replace(at, 3, dir.string());
    return text;
  };
  CommandResult run = edgegnn("partition " + with_dir(GetParam().args));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  // Progress lines may come first; the error is the one last line.
  const size_t last_line = run.output.rfind('\n', run.output.size() - 2) + 1;
  EXPECT_EQ(run.output.find("edgegnn: error: " + with_dir(GetParam().message)), last_line)
      << run.output;
  EXPECT_FALSE(fs::exists(dir / "p" / "partition.json"));
}

INSTANTIATE_TEST_SUITE_P(
    Partition, PartitionCliBadInput,
    ::testing::Values(
        BadPartition{"--dataset synthetic-tiny --parts 0 --out DIR/p",
                     "--parts: 0 parts, expected at least 1"},
        BadPartition{"--dataset synthetic-tiny --parts 301 --out DIR/p",
                     "--parts: 301 parts for 300 nodes, expected at most 300"},
        BadPartition{"--dataset synthetic-tiny --parts 2 --method hash --out DIR/p",
                     "--method: unknown partition method 'hash' (known: metis, random, fennel)"},
        BadPartition{"--dataset synthetic-tiny --parts 2 --out DIR/file/p", "--out: cannot create"},
        BadPartition{"--dataset edgegnn --root DIR --parts 2 --out DIR/p",
                     "DIR/manifest.json: cannot open"}));

}  // namespace
}  // namespace edgegnn
