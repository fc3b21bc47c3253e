#include "graph/graph.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "graph/binary_format.h"
#include "test_support/datasets.h"
#include "test_support/errors.h"
#include "test_support/graphs.h"

namespace edgegnn::graph {
namespace {

// 0 - 1 - 2 path given once with a duplicate and a self-loop on 2.
EdgeList path_with_duplicate_and_loop() {
  return {/*src=*/{0, 1, 1, 2}, /*dst=*/{1, 2, 2, 2}};
}

TEST(BuildInCsr, SymmetrisesSortsAndDropsDuplicatesAndSelfLoops) {
  auto [rowptr, col] = build_in_csr(3, path_with_duplicate_and_loop(), {}, "test");
  EXPECT_EQ(rowptr, (std::vector<int64_t>{0, 1, 3, 4}));
  EXPECT_EQ(col, (std::vector<int32_t>{1, 0, 2, 1}));
}

TEST(BuildInCsr, KeepsSelfLoopsWhenAsked) {
  auto [rowptr, col] = build_in_csr(3, path_with_duplicate_and_loop(),
                                    {/*symmetrize=*/true, /*keep_self_loops=*/true}, "test");
  EXPECT_EQ(rowptr, (std::vector<int64_t>{0, 1, 3, 5}));
  EXPECT_EQ(col, (std::vector<int32_t>{1, 0, 2, 1, 2}));
}

TEST(BuildInCsr, DirectedKeepsOnlyGivenDirection) {
  auto [rowptr, col] = build_in_csr(3, path_with_duplicate_and_loop(),
                                    {/*symmetrize=*/false, /*keep_self_loops=*/false}, "test");
  EXPECT_EQ(rowptr, (std::vector<int64_t>{0, 0, 1, 2}));
  EXPECT_EQ(col, (std::vector<int32_t>{0, 1}));
}

TEST(BuildInCsr, RejectsOutOfRangeIdNamingTheSource) {
  EdgeList edges{{0}, {7}};
  try {
    build_in_csr(3, edges, {}, "edges.bin");
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "edges.bin: edge 0 -> 7 has a node id out of range [0, 3)");
  }
}

TEST(Graph, AccessorsReadTheCsr) {
  Graph g = test::path_graph();
  g.validate("small");
  EXPECT_EQ(g.num_edges(), 4);
  EXPECT_EQ(g.in_degree(1), 2);
  EXPECT_EQ(std::vector<int32_t>(g.in_neighbors(1).begin(), g.in_neighbors(1).end()),
            (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(g.feature_row(2)[1], 6.0f);
  EXPECT_EQ(g.memory_bytes(), 4 * 8 + 4 * 4 + 6 * 4 + 3 * 4 + 3 * 3);
  EXPECT_EQ(count_mask(g.train_mask), 1);
}

TEST(Graph, RowNormalizeMakesRowsSumToOne) {
  Graph g = test::path_graph();
  g.features = Buffer(std::vector<float>{0, 2, 3, 4, 0.5f, 0});
  row_normalize_features(g);
  EXPECT_FLOAT_EQ(g.feature_row(0)[0], 0.0f);
  EXPECT_FLOAT_EQ(g.feature_row(0)[1], 1.0f);
  EXPECT_FLOAT_EQ(g.feature_row(1)[0], 3.0f / 7);
  EXPECT_FLOAT_EQ(g.feature_row(2)[0], 0.5f) << "a row summing to at most 1 stays, as in PyG";
}

TEST(Graph, RowNormalizeShiftsSignedFeaturesAsPyGDoes) {
  // PyG's NormalizeFeatures: x - x.min(), then rows over max(sum, 1).
  Graph g = test::path_graph();
  g.features = Buffer(std::vector<float>{-1, 1, 0.5f, -0.5f, -1, -1});
  row_normalize_features(g);
  EXPECT_FLOAT_EQ(g.feature_row(0)[0], 0.0f);
  EXPECT_FLOAT_EQ(g.feature_row(0)[1], 1.0f);
  EXPECT_FLOAT_EQ(g.feature_row(1)[0], 1.5f / 2);
  EXPECT_FLOAT_EQ(g.feature_row(1)[1], 0.5f / 2);
  EXPECT_FLOAT_EQ(g.feature_row(2)[0], 0.0f);
  EXPECT_FLOAT_EQ(g.feature_row(2)[1], 0.0f);
  // A NaN spoils its own row, not the shift of every other.
  g.features = Buffer(std::vector<float>{std::numeric_limits<float>::quiet_NaN(), 1, 2, 4, -1, 1});
  row_normalize_features(g);
  EXPECT_TRUE(std::isnan(g.feature_row(0)[1]));
  EXPECT_FLOAT_EQ(g.feature_row(1)[0], 3.0f / 8);
  EXPECT_FLOAT_EQ(g.feature_row(2)[1], 1.0f);
}

TEST(Graph, CountsNonFiniteFeatureValues) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  Graph g = test::path_graph();
  g.features = Buffer(std::vector<float>{nan, 2, 3, nan, 5, nan});
  EXPECT_EQ(count_non_finite(g.features, /*num_threads=*/1), 3);
  const float max = std::numeric_limits<float>::max();
  const float tiny = std::numeric_limits<float>::denorm_min();
  const Buffer edges_of_float(std::vector<float>{inf, -inf, -nan, 0, -0.0f, max, -max, tiny});
  EXPECT_EQ(count_non_finite(edges_of_float, /*num_threads=*/1), 3);
  // Several threads' worth, the values at the ends of 4 MiB pieces.
  std::vector<float> values(3 << 20, 1.0f);
  values.front() = nan;
  values[(1 << 20) - 1] = inf;
  values.back() = -inf;
  const Buffer big(std::move(values));
  for (int threads : {0, 1, 2, 3, 8}) EXPECT_EQ(count_non_finite(big, threads), 3) << threads;
  EXPECT_EQ(count_non_finite(Buffer<float>(), /*num_threads=*/0), 0);
}

// This process's resident set, from /proc/self/status.
int64_t resident_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) << 10;
  return -1;
}

TEST(Graph, CountingAMappedMatrixLeavesItUnresident) {
  // 3 rows of 4 Mi features: 48 MiB, with non-finite values at piece ends.
  const int64_t width = int64_t{4} << 20;
  std::vector<float> features(3 * width, 1.0f);
  features[(1 << 20) - 1] = std::numeric_limits<float>::quiet_NaN();
  features[1 << 20] = std::numeric_limits<float>::infinity();
  features.back() = -std::numeric_limits<float>::infinity();
  const auto dir = test::scratch_dir("wide");
  write_binary_graph(make_graph({"wide", width, /*num_classes=*/2, /*rowptr=*/{0, 1, 3, 4},
                                 /*col=*/{1, 0, 2, 1}, std::move(features), /*labels=*/{0, 1, -1},
                                 /*train_mask=*/{1, 0, 0}, /*val_mask=*/{0, 1, 0},
                                 /*test_mask=*/{0, 0, 1}},
                                "wide"),
                     dir);
  const Graph g = open_binary_graph(dir);
  ASSERT_TRUE(g.features.is_mapped());
  const int64_t before = resident_bytes();
  EXPECT_EQ(count_non_finite(g.features, /*num_threads=*/2), 3);
  EXPECT_LT(resident_bytes() - before, int64_t{8} << 20) << "of 48 MiB counted";
  // Pages handed back read again from the file.
  EXPECT_TRUE(std::isnan(g.features[(1 << 20) - 1]));
  EXPECT_EQ(g.features[2 * width + 5], 1.0f);
  EXPECT_EQ(g.features[3 * width - 1], -std::numeric_limits<float>::infinity());
}

TEST(Graph, ValidateRejectsLabelOutOfRange) {
  Graph g = test::path_graph();
  g.labels = Buffer(std::vector<int32_t>{0, 2, 0});
  EXPECT_THROW(g.validate("small"), Error);
}

TEST(Graph, ValidateRejectsFeatureCountMismatch) {
  Graph g = test::path_graph();
  g.features = Buffer(std::vector<float>{1, 2, 3});
  EXPECT_THROW(g.validate("small"), Error);
}

// Part 1 of the path 0 - 1 - 2 cut as {0, 1} | {2}: row 0 is node 2, whose
// in-edge comes from node 1 in the other part.
Graph path_part() {
  Graph p = make_graph({"path", /*num_features=*/2, /*num_classes=*/2, /*rowptr=*/{0, 1},
                        /*col=*/{0}, /*features=*/{5, 6}, /*labels=*/{-1},
                        /*train_mask=*/{0}, /*val_mask=*/{0}, /*test_mask=*/{1}},
                       "part");
  // make_graph validates a whole graph; the global source id goes in after.
  p.col = Buffer(std::vector<int32_t>{1});
  p.num_source_nodes = 3;
  p.global_ids = Buffer(std::vector<int32_t>{2});
  return p;
}

TEST(Graph, AWholeGraphsSourcesAreItsNodes) {
  Graph g = test::path_graph();
  EXPECT_EQ(g.num_source_nodes, -1);
  EXPECT_EQ(g.num_sources(), 3);
  EXPECT_EQ(g.global_id(2), 2);
}

TEST(Graph, APartsSourcesAreTheWholeGraphsNodes) {
  Graph p = path_part();
  p.validate("part");
  EXPECT_EQ(p.num_sources(), 3);
  EXPECT_EQ(p.global_id(0), 2);
  EXPECT_EQ(p.in_neighbors(0)[0], 1);  // a global id beyond the part's one row
  EXPECT_EQ(p.memory_bytes(), 2 * 8 + 4 + 2 * 4 + 4 + 3 + 4);
}

TEST(Graph, ValidateChecksSourcesAgainstTheSourceIdSpace) {
  Graph p = path_part();
  p.col = Buffer(std::vector<int32_t>{3});
  EXPECT_EQ(test::error_of([&] { p.validate("part"); }), "part: edge source 3 out of range [0, 3)");
}

TEST(Graph, ValidateChecksGlobalIds) {
  Graph p = path_part();
  p.global_ids = Buffer(std::vector<int32_t>{3});
  EXPECT_EQ(test::error_of([&] { p.validate("part"); }),
            "part: global id 3 of row 0 out of range [0, 3)");
  p.global_ids = Buffer(std::vector<int32_t>{});
  EXPECT_EQ(test::error_of([&] { p.validate("part"); }),
            "part: a part of a 3-node graph without global ids");
  p.global_ids = Buffer(std::vector<int32_t>{1, 2});
  EXPECT_EQ(test::error_of([&] { p.validate("part"); }), "part: 2 global ids for 1 nodes");

  Graph g = test::path_graph();
  g.global_ids = Buffer(std::vector<int32_t>{0, 2, 1});
  EXPECT_EQ(test::error_of([&] { g.validate("whole"); }),
            "whole: global ids not ascending at row 2 (1 after 2)");
}

}  // namespace
}  // namespace edgegnn::graph
