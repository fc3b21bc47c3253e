// The command line over graphs users bring (edge lists, METIS files) and the
// products-scale tools: generate --scale, partition --method fennel.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "graph/dataset.h"
#include "test_support/datasets.h"

namespace edgegnn {
namespace {

using test::CommandResult;

CommandResult edgegnn(const std::string& args) { return test::run_edgegnn(args); }

// Cora's structure alone, as SNAP writes a graph: a comment, then one edge a line.
std::filesystem::path cora_edge_list(const std::filesystem::path& dir) {
  graph::Graph cora = graph::load_dataset("cora", (test::datasets_dir() / "planetoid").string());
  const std::filesystem::path file = dir / "cora.txt";
  std::ofstream out(file);
  out << "# Cora citations: src dst\n";
  for (int64_t v = 0; v < cora.num_nodes; ++v)
    for (int32_t u : cora.in_neighbors(v))
      if (u < v) out << u << '\t' << v << '\n';
  return file;
}

TEST(GraphFilesCli, TrainsOnAnEdgeListWithGeneratedNodeData) {
  const auto dir = test::scratch_dir("edge-list-cli");
  const std::string file = cora_edge_list(dir).string();
  CommandResult info = edgegnn("info --json --dataset edgelist --root " + file);
  ASSERT_EQ(info.exit_code, 0) << info.output;
  auto json = nlohmann::json::parse(info.output);
  EXPECT_EQ(json["num_nodes"], 2708);
  EXPECT_EQ(json["num_edges"], 10556);
  // Generated labels follow the structure: a GNN learns them well above the
  // 10 classes' chance.
  const std::string metrics = (dir / "metrics.json").string();
  CommandResult train = edgegnn("train --quiet --dataset edgelist --root " + file +
                                " --epochs 5 --eval-every 0 --metrics-out " + metrics);
  ASSERT_EQ(train.exit_code, 0) << train.output;
  std::ifstream in(metrics);
  EXPECT_GT(nlohmann::json::parse(in)["last_test_acc"].get<double>(), 0.6);
}

TEST(GraphFilesCli, AMalformedLineIsOneErrorNamingFileAndLine) {
  const auto dir = test::scratch_dir("edge-list-bad");
  const std::string file = (dir / "bad.txt").string();
  std::ofstream(file) << "# comment\n0 1\n1 two\n";
  CommandResult run = edgegnn("info --dataset edgelist --root " + file);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_EQ(run.output,
            "edgegnn: error: " + file + ":3: node id 'two' is not a non-negative integer\n");
}

TEST(GraphFilesCli, FennelPartitionsAScaledProductsGraphForTraining) {
  const auto dir = test::scratch_dir("fennel-cli");
  const std::string graph = (dir / "graph").string(), parts = (dir / "parts").string();
  CommandResult gen = edgegnn("generate --preset products --scale 0.002 --out " + graph);
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  CommandResult info = edgegnn("info --json --dataset edgegnn --root " + graph);
  ASSERT_EQ(info.exit_code, 0) << info.output;
  auto g = nlohmann::json::parse(info.output);
  EXPECT_EQ(g["dataset"], "synthetic-products-x0.002");
  EXPECT_EQ(g["num_nodes"], 4898);
  EXPECT_NEAR(g["num_edges"].get<double>() / 4898, 50.5, 2.5);
  CommandResult part = edgegnn("partition --dataset edgegnn --root " + graph +
                               " --parts 3 --method fennel --out " + parts);
  ASSERT_EQ(part.exit_code, 0) << part.output;
  std::ifstream book_file(std::filesystem::path(parts) / "partition.json");
  auto book = nlohmann::json::parse(book_file);
  EXPECT_EQ(book["method"], "fennel");
  for (const char* count : {"nodes", "edges", "train"})
    EXPECT_LE(book["summary"]["balance"][count].get<double>(), 1.11) << count;
  const std::string metrics = (dir / "metrics.json").string();
  CommandResult train =
      edgegnn("train --quiet --dataset synthetic-products-x0.002 --root " + parts +
              " --strategy partition --devices 3 --batch-size 64 --epochs 3 --eval-every 0"
              " --metrics-out " +
              metrics);
  ASSERT_EQ(train.exit_code, 0) << train.output;
  std::ifstream in(metrics);
  // 47 classes, the largest 16 % of the nodes; single scores 0.77 here.
  EXPECT_GT(nlohmann::json::parse(in)["last_test_acc"].get<double>(), 0.6);
}

}  // namespace
}  // namespace edgegnn
