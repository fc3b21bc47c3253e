// Non-finite values end to end (issue 15). Loading features that hold NaN or
// inf warns once:
//   edgegnn: warning: <name>: <N> non-finite feature values (NaN or inf)
// and training stops at the first non-finite loss with one line and exit 2:
//   edgegnn: error: epoch <E>, step <S>: the loss is not finite (<value>)...
// leaving the checkpoint of the last good epoch as it was.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <vector>

#include "graph/binary_format.h"
#include "test_support/datasets.h"

namespace edgegnn {
namespace {

namespace fs = std::filesystem;

using test::CommandResult;

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

// The lines of `output` that contain `text`.
std::vector<std::string> lines_with(const std::string& output, const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);)
    if (line.find(text) != std::string::npos) lines.push_back(line);
  return lines;
}

// Four non-finite values: NaN twice, +inf and −inf, in the features of the
// first three training nodes. Every training node is a seed of epoch 1's first
// step (a batch of 1024 holds all 180 of synthetic-tiny's), and a seed's own
// features reach its logits through the root weight, so that step's loss is
// not finite whatever the sampler draws.
constexpr int kNonFinite = 4;

// The binary graph of synthetic-tiny (seed 3) in `dir`/good, and a copy in
// `dir`/nan with the values above written into features.f32, its manifest's
// checksum updated (its size is unchanged), so that the file is consistent
// and only its values are wrong.
struct Graphs {
  fs::path good;
  fs::path nan;
};

Graphs write_graphs(const fs::path& dir) {
  Graphs g{dir / "good", dir / "nan"};
  CommandResult gen =
      test::run_edgegnn("generate --preset tiny --seed 3 --out " + g.good.string());
  EXPECT_EQ(gen.exit_code, 0) << gen.output;
  fs::copy(g.good, g.nan, fs::copy_options::recursive);

  std::ifstream manifest_in(g.nan / "manifest.json");
  nlohmann::json manifest = nlohmann::json::parse(manifest_in);
  manifest_in.close();
  const int64_t num_features = manifest["num_features"];
  std::string features = read_bytes(g.nan / "features.f32");
  const std::string train_mask = read_bytes(g.nan / "train_mask.u8");
  EXPECT_EQ(features.size(), manifest["arrays"]["features"]["bytes"].get<size_t>());
  std::vector<int64_t> train_nodes;
  for (size_t v = 0; v < train_mask.size() && train_nodes.size() < 3; ++v)
    if (train_mask[v]) train_nodes.push_back(static_cast<int64_t>(v));
  EXPECT_EQ(train_nodes.size(), 3u);
  if (train_nodes.size() < 3) return g;

  auto set = [&](int64_t node, int64_t column, float value) {
    std::memcpy(features.data() + (node * num_features + column) * sizeof(float), &value,
                sizeof value);
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  set(train_nodes[0], 0, nan);
  set(train_nodes[1], 3, inf);
  set(train_nodes[2], 5, nan);
  set(train_nodes[2], 7, -inf);
  write_bytes(g.nan / "features.f32", features);
  manifest["arrays"]["features"]["fnv1a64"] = graph::fnv1a64_hex(features.data(), features.size());
  std::ofstream(g.nan / "manifest.json", std::ios::trunc) << manifest.dump(2) << "\n";
  return g;
}

// The warning for `graphs.nan`, named by the graph, its directory or its
// feature file (the contract says <name>).
void expect_one_warning(const CommandResult& run, const Graphs& graphs) {
  const std::vector<std::string> warnings = lines_with(run.output, "non-finite");
  ASSERT_EQ(warnings.size(), 1u) << run.output;
  const std::regex line(R"(edgegnn: warning: (.+): (\d+) non-finite feature values \(NaN or inf\))");
  std::smatch match;
  ASSERT_TRUE(std::regex_match(warnings[0], match, line)) << warnings[0];
  EXPECT_EQ(match[2], std::to_string(kNonFinite)) << warnings[0];
  const std::string name = match[1];
  EXPECT_TRUE(name == "synthetic-tiny" || name == graphs.nan.string() ||
              name == (graphs.nan / "features.f32").string())
      << "names '" << name << "'";
}

// Exit code 2 and the error line of a non-finite loss at `epoch`, `step`,
// whose <value> parses to NaN or ±inf. A run in one process prints it as its
// one error line; a launcher (`relayed`) relays it from each worker that
// stopped, prefixed "[rank k] ", and adds its own line naming the rank.
void expect_loss_error(const CommandResult& run, int epoch, int step, bool relayed = false) {
  EXPECT_EQ(run.exit_code, 2) << run.output;
  const std::vector<std::string> errors = lines_with(run.output, "the loss is not finite");
  ASSERT_GE(errors.size(), 1u) << "no line says the loss is not finite";
  if (!relayed) {
    EXPECT_EQ(errors.size(), 1u);
    EXPECT_EQ(lines_with(run.output, "edgegnn: error:").size(), 1u) << "error lines";
  }
  const std::regex line(std::string(relayed ? R"(\[rank \d+\] )" : "") +
                        R"(edgegnn: error: epoch (\d+), step (\d+): the loss is not finite \(([^)]*)\).*)");
  for (const std::string& error : errors) {
    std::smatch match;
    ASSERT_TRUE(std::regex_match(error, match, line)) << error;
    EXPECT_EQ(match[1], std::to_string(epoch)) << error;
    EXPECT_EQ(match[2], std::to_string(step)) << error;
    const std::string value = match[3];
    EXPECT_FALSE(std::isfinite(std::strtod(value.c_str(), nullptr)))
        << "'" << value << "' is not a non-finite number: " << error;
  }
  EXPECT_EQ(run.output.find("test accuracy"), std::string::npos) << "the run went on to the end";
}

TEST(NonFiniteCli, InfoWarnsOnceWithTheCountOfNonFiniteFeatures) {
  const Graphs graphs = write_graphs(test::scratch_dir("graphs"));
  CommandResult good = test::run_edgegnn("info --dataset edgegnn --root " + graphs.good.string());
  ASSERT_EQ(good.exit_code, 0) << good.output;
  EXPECT_EQ(good.output.find("non-finite"), std::string::npos) << good.output;

  CommandResult bad = test::run_edgegnn("info --dataset edgegnn --root " + graphs.nan.string());
  ASSERT_EQ(bad.exit_code, 0) << bad.output;
  expect_one_warning(bad, graphs);
  EXPECT_NE(bad.output.find("300"), std::string::npos) << bad.output;  // the summary follows
}

TEST(NonFiniteCli, TrainingStopsAtTheFirstStepWithANonFiniteLoss) {
  const Graphs graphs = write_graphs(test::scratch_dir("graphs"));
  const std::string root = " --dataset edgegnn --threads 1 --epochs 3 --root " + graphs.nan.string();
  // GraphSAGE on mini-batches; GCN on the full graph (its defaults).
  for (const std::string model : {"--model sage --hidden 16", "--model gcn"}) {
    SCOPED_TRACE(model);
    CommandResult run = test::run_edgegnn("train " + model + root);
    expect_one_warning(run, graphs);
    expect_loss_error(run, /*epoch=*/1, /*step=*/1);
  }
}

TEST(NonFiniteCli, TheCheckpointOfTheLastGoodEpochIsKept) {
  const fs::path dir = test::scratch_dir("keep");
  const Graphs graphs = write_graphs(dir);
  const fs::path checkpoint = dir / "checkpoint";
  const std::string flags = "train --quiet --dataset edgegnn --hidden 16 --threads 1 --checkpoint " +
                            checkpoint.string();
  CommandResult first = test::run_edgegnn(flags + " --epochs 1 --root " + graphs.good.string());
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const std::string saved_pt = read_bytes(checkpoint / "checkpoint.pt");
  const std::string saved_model = read_bytes(checkpoint / "model.pt");
  const std::string saved_json = read_bytes(checkpoint / "checkpoint.json");
  ASSERT_FALSE(saved_pt.empty());

  // The same graph's NaN copy: the same --dataset, so --resume accepts it.
  CommandResult resumed =
      test::run_edgegnn(flags + " --epochs 2 --resume --root " + graphs.nan.string());
  expect_loss_error(resumed, /*epoch=*/2, /*step=*/1);

  std::ifstream in(checkpoint / "checkpoint.json");
  EXPECT_EQ(nlohmann::json::parse(in)["epoch"], 1);
  EXPECT_TRUE(read_bytes(checkpoint / "checkpoint.pt") == saved_pt) << "checkpoint.pt changed";
  EXPECT_TRUE(read_bytes(checkpoint / "model.pt") == saved_model) << "model.pt changed";
  EXPECT_TRUE(read_bytes(checkpoint / "checkpoint.json") == saved_json)
      << "checkpoint.json changed";
}

TEST(NonFiniteCli, DataParallelWorkersStopAndTheLauncherExits2) {
  const Graphs graphs = write_graphs(test::scratch_dir("graphs"));
  const auto start = std::chrono::steady_clock::now();
  CommandResult run = test::run_edgegnn(
      "train --dataset edgegnn --strategy data --devices 2 --threads 1 --hidden 16 --epochs 3 "
      "--comm-timeout 60 --root " + graphs.nan.string());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  expect_loss_error(run, /*epoch=*/1, /*step=*/1, /*relayed=*/true);
  // Stopped by the failing rank, not by a peer's timeout.
  EXPECT_LT(seconds, 60) << run.output;
}

}  // namespace
}  // namespace edgegnn
