#include "graph/graph.h"

#include <gtest/gtest.h>

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
  row_normalize_features(g);
  EXPECT_FLOAT_EQ(g.feature_row(0)[0], 1.0f / 3);
  EXPECT_FLOAT_EQ(g.feature_row(0)[1], 2.0f / 3);
  EXPECT_FLOAT_EQ(g.feature_row(2)[0], 5.0f / 11);
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

}  // namespace
}  // namespace edgegnn::graph
