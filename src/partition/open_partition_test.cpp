#include "partition/open_partition.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "graph/synthetic.h"
#include "partition/partition_writer.h"
#include "test_support/datasets.h"
#include "test_support/errors.h"

namespace edgegnn::partition {
namespace {

namespace fs = std::filesystem;

// synthetic-tiny (300 nodes) in `num_parts` parts at `dir`.
void write_tiny_partition(const fs::path& dir, int num_parts, PartitionMethod method,
                          uint64_t seed) {
  graph::Graph g = graph::generate_synthetic(graph::synthetic_preset("tiny"), {.seed = 0});
  PartitionOptions options;
  options.num_parts = num_parts;
  options.method = method;
  options.seed = seed;
  std::vector<int32_t> node_part = partition_nodes(g, options);
  PartitionWriteOptions write_options;
  write_options.num_parts = num_parts;
  write_options.method = method;
  write_options.seed = seed;
  write_partition(g, node_part, dir, write_options);
}

class OpenPartition : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::scratch_dir("tiny-parts");
    write_tiny_partition(dir_, /*num_parts=*/4, PartitionMethod::kMetis, /*seed=*/0);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string error_of(int part, int num_ranks, ExpectedDataset expected = {}) {
    PartitionOpenOptions options;
    options.part = part;
    options.num_ranks = num_ranks;
    options.expected = expected;
    return test::error_of([&] { open_partition(dir_, options); });
  }
  fs::path dir_;
};

TEST_F(OpenPartition, OpensTheBookAndOnlyItsOwnPart) {
  // The other parts' directories are never read.
  for (int k : {0, 1, 3}) fs::remove_all(part_directory(dir_, k));
  PartitionOpenOptions options;
  options.part = 2;
  options.num_ranks = 4;
  options.expected.name = "synthetic-tiny";
  options.expected.num_nodes = 300;
  Partition p = open_partition(dir_, options);
  EXPECT_EQ(p.part, 2);
  EXPECT_EQ(p.book.num_parts, 4);
  EXPECT_TRUE(p.graph.col.is_mapped());
  EXPECT_TRUE(p.graph.features.is_mapped());
  EXPECT_EQ(p.graph.num_nodes, p.book.summary.parts[2].num_nodes);
  EXPECT_EQ(p.graph.num_sources(), 300);
  for (int64_t i = 0; i < p.graph.num_nodes; ++i)
    EXPECT_EQ(p.graph.global_id(i), p.book.offsets[2] + i);
  EXPECT_EQ(p.memory_bytes(), p.book.memory_bytes() + p.graph.memory_bytes());
}

// Joined, the parts are the whole graph in the partition's ids: every node's
// in-neighbours and split, renumbered.
TEST_F(OpenPartition, JoinedPartsAreTheWholeGraphRenumbered) {
  const graph::Graph g = graph::generate_synthetic(graph::synthetic_preset("tiny"), {.seed = 0});
  PartitionOptions options;
  options.num_parts = 4;
  options.method = PartitionMethod::kMetis;
  const std::vector<int32_t> new_id = range_ids(partition_nodes(g, options), 4);
  const graph::Graph whole = join_parts(dir_);
  ASSERT_EQ(whole.num_nodes, g.num_nodes);
  ASSERT_EQ(whole.num_edges(), g.num_edges());
  EXPECT_FALSE(whole.has_features);
  for (int64_t v = 0; v < g.num_nodes; ++v) {
    const int32_t w = new_id[v];
    std::vector<int32_t> expected;
    for (int32_t u : g.in_neighbors(v)) expected.push_back(new_id[u]);
    std::sort(expected.begin(), expected.end());
    const auto got = whole.in_neighbors(w);
    EXPECT_EQ(std::vector<int32_t>(got.begin(), got.end()), expected) << v;
    EXPECT_EQ(whole.train_mask[w], g.train_mask[v]) << v;
    EXPECT_EQ(whole.labels[w], g.labels[v]) << v;
  }
}

TEST_F(OpenPartition, MapsOnlyTheArraysAsked) {
  fs::remove(part_directory(dir_, 1) / "features.f32");
  PartitionOpenOptions options;
  options.part = 1;
  options.graph.parts.features = false;
  Partition p = open_partition(dir_, options);
  EXPECT_FALSE(p.graph.has_features);
  EXPECT_GT(p.graph.num_edges(), 0);
}

TEST_F(OpenPartition, RefusesADirectoryThatIsNoPartition) {
  auto other = test::scratch_dir("not-a-partition");
  EXPECT_EQ(test::error_of([&] { open_partition(other, {}); }),
            other.string() +
                ": not a partition directory (no partition.json; 'edgegnn partition' makes one)");
}

TEST_F(OpenPartition, RefusesAMissingPart) {
  fs::remove_all(part_directory(dir_, 3));
  EXPECT_EQ(error_of(/*part=*/3, /*num_ranks=*/4), (dir_ / "part-3").string() +
                                                       ": missing (part 3 of partition " +
                                                       dir_.string() + ", which has 4 parts)");
}

TEST_F(OpenPartition, RefusesARunWithAnotherNumberOfRanks) {
  EXPECT_EQ(error_of(/*part=*/0, /*num_ranks=*/2),
            "partition " + dir_.string() + " has 4 parts but the run has 2 ranks");
  EXPECT_EQ(error_of(/*part=*/4, /*num_ranks=*/0),
            "partition " + dir_.string() + " has 4 parts, so there is no part 4");
}

TEST_F(OpenPartition, RefusesAPartitionOfAnotherDataset) {
  ExpectedDataset cora;
  cora.name = "cora";
  EXPECT_EQ(error_of(/*part=*/0, /*num_ranks=*/0, cora),
            "partition " + dir_.string() +
                " was made from dataset 'synthetic-tiny', but the run uses 'cora'");
  ExpectedDataset bigger;
  bigger.name = "synthetic-tiny";
  bigger.num_nodes = 2708;
  EXPECT_EQ(error_of(/*part=*/0, /*num_ranks=*/0, bigger),
            "partition " + dir_.string() +
                " was made from a graph of 300 nodes, but the run's dataset has 2708");
  ExpectedDataset wider;
  wider.num_features = 602;
  EXPECT_EQ(error_of(/*part=*/0, /*num_ranks=*/0, wider),
            "partition " + dir_.string() +
                " was made from a graph of 16 features, but the run's dataset has 602");
}

TEST_F(OpenPartition, RefusesAPartCopiedFromAnotherPartition) {
  auto other = test::scratch_dir("other-seed");
  write_tiny_partition(other, /*num_parts=*/4, PartitionMethod::kRandom, /*seed=*/0);
  fs::remove_all(part_directory(dir_, 0));
  fs::rename(part_directory(other, 0), part_directory(dir_, 0));
  fs::remove_all(other);
  const std::string error = error_of(/*part=*/0, /*num_ranks=*/4);
  EXPECT_EQ(
      error.rfind((dir_ / "part-0").string() + ": not part 0 of partition " + dir_.string(), 0), 0u)
      << error;
}

TEST_F(OpenPartition, RefusesAVersionOnePartitionAskingForANewOne) {
  const fs::path manifest = dir_ / "partition.json";
  std::ifstream in(manifest);
  auto book = nlohmann::json::parse(in);
  book["format_version"] = 1;
  std::ofstream(manifest) << book.dump(2);
  EXPECT_EQ(error_of(/*part=*/0, /*num_ranks=*/4),
            "partition " + dir_.string() +
                " has format version 1, older than this edgegnn's 2: re-run 'edgegnn partition' "
                "to write it again");
}

TEST_F(OpenPartition, RefusesOffsetsThatDisagreeWithTheSummary) {
  const fs::path manifest = dir_ / "partition.json";
  std::ifstream in(manifest);
  auto book = nlohmann::json::parse(in);
  book["offsets"][1] = book["offsets"][1].get<int64_t>() + 1;
  std::ofstream(manifest) << book.dump(2);
  const std::string error = error_of(/*part=*/0, /*num_ranks=*/4);
  EXPECT_EQ(error.rfind(manifest.string() + ": offsets give part 0 ", 0), 0u) << error;
}

}  // namespace
}  // namespace edgegnn::partition
