#include "partition/partitioner.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "graph/binary_format.h"
#include "graph/dataset.h"
#include "partition/partition_summary.h"
#include "partition/symmetric_adjacency.h"
#include "test_support/datasets.h"
#include "test_support/errors.h"
#include "test_support/graphs.h"

namespace edgegnn::partition {
namespace {

graph::Graph cora() {
  return graph::load_dataset("cora", (test::datasets_dir() / "planetoid").string());
}

std::vector<int64_t> part_sizes(const std::vector<int32_t>& node_part, int num_parts) {
  std::vector<int64_t> sizes(num_parts, 0);
  for (int32_t p : node_part) {
    EXPECT_TRUE(p >= 0 && p < num_parts) << "part id " << p;
    if (p >= 0 && p < num_parts) ++sizes[p];
  }
  return sizes;
}

// In-edges whose source lies in another part (computed here, independently of
// the writer's summary).
int64_t cut_in_edges(const graph::Graph& g, const std::vector<int32_t>& node_part) {
  int64_t cut = 0;
  for (int64_t v = 0; v < g.num_nodes; ++v)
    for (int32_t u : g.in_neighbors(v)) cut += node_part[u] != node_part[v];
  return cut;
}

// symmetric_adjacency.h's example: 0 -> 1, 1 -> 0, 2 -> 1 and the self-loop 2 -> 2.
graph::Graph one_way_example() {
  return graph::make_graph({"example", /*num_features=*/0, /*num_classes=*/1,
                            /*rowptr=*/{0, 1, 3, 4}, /*col=*/{1, 0, 2, 2},
                            /*features=*/{}, /*labels=*/{0, 0, 0},
                            /*train_mask=*/{1, 0, 0}, /*val_mask=*/{0, 0, 0},
                            /*test_mask=*/{0, 0, 0}},
                           "example");
}

TEST(SymmetricAdjacency, MatchesTheHeaderExample) {
  SymmetricAdjacency a = symmetric_adjacency(one_way_example(), /*num_threads=*/2);
  EXPECT_EQ(a.rowptr, (std::vector<int64_t>{0, 1, 3, 4}));
  EXPECT_EQ(a.col, (std::vector<int32_t>{1, 0, 2, 1}));
}

TEST(SymmetricAdjacency, CountsEachUndirectedEdgeOnceWhateverItsDirections) {
  // {0, 1} stored both ways, {1, 2} one way, the self-loop not at all.
  const std::vector<int32_t> node_part = {0, 0, 1};
  UndirectedCut cut = count_undirected_cut(one_way_example(), node_part, /*num_threads=*/2);
  EXPECT_EQ(cut.num_edges, 2);
  EXPECT_EQ(cut.num_cut, 1);
}

TEST(Partitioner, OnePartPutsEveryNodeInPartZero) {
  graph::Graph g = test::path_graph();
  for (auto method : {PartitionMethod::kMetis, PartitionMethod::kRandom, PartitionMethod::kFennel})
    EXPECT_EQ(partition_nodes(g, {.num_parts = 1, .method = method}),
              (std::vector<int32_t>{0, 0, 0}));
}

TEST(Partitioner, RandomCutsAShuffleIntoEqualParts) {
  graph::Graph g = cora();
  std::vector<int32_t> node_part =
      partition_nodes(g, {.num_parts = 3, .method = PartitionMethod::kRandom, .seed = 1});
  // 2708 = 903 + 903 + 902.
  std::vector<int64_t> sizes = part_sizes(node_part, 3);
  std::sort(sizes.begin(), sizes.end());
  EXPECT_EQ(sizes, (std::vector<int64_t>{902, 903, 903}));
  // Shuffled, not slices of the id range.
  EXPECT_FALSE(std::is_sorted(node_part.begin(), node_part.end()));
}

TEST(Partitioner, SameSeedGivesTheSamePartsAndAnotherSeedOthers) {
  graph::Graph g = cora();
  for (auto method : {PartitionMethod::kMetis, PartitionMethod::kRandom}) {
    PartitionOptions options{.num_parts = 4, .method = method, .seed = 7, .num_threads = 2};
    std::vector<int32_t> first = partition_nodes(g, options);
    options.num_threads = 1;
    EXPECT_EQ(partition_nodes(g, options), first) << partition_method_name(method);
    options.seed = 8;
    EXPECT_NE(partition_nodes(g, options), first) << partition_method_name(method);
  }
}

TEST(Partitioner, MetisOnCoraCutsUnderHalfOfRandomsEdgesAndStaysBalanced) {
  graph::Graph g = cora();
  std::vector<int32_t> metis =
      partition_nodes(g, {.num_parts = 4, .method = PartitionMethod::kMetis});
  std::vector<int32_t> random =
      partition_nodes(g, {.num_parts = 4, .method = PartitionMethod::kRandom});
  const int64_t metis_cut = cut_in_edges(g, metis), random_cut = cut_in_edges(g, random);
  // Random leaves 3/4 of the edges crossing; METIS keeps most edges inside.
  EXPECT_NEAR(static_cast<double>(random_cut) / g.num_edges(), 0.75, 0.03);
  EXPECT_LT(metis_cut, random_cut / 2) << metis_cut << " vs " << random_cut;

  std::vector<int64_t> edges(4, 0), train(4, 0);
  for (int64_t v = 0; v < g.num_nodes; ++v) {
    edges[metis[v]] += g.in_degree(v);
    train[metis[v]] += g.train_mask[v];
  }
  EXPECT_LE(balance(part_sizes(metis, 4)), 1.1);
  EXPECT_LE(balance(edges), 1.1);
  EXPECT_LE(balance(train), 1.15);  // 140 training nodes: 35 a part, +-5
}

TEST(Partitioner, FennelInOnePassCutsFarLessThanRandomWithinItsCaps) {
  graph::Graph g = cora();
  for (int num_parts : {2, 4, 8}) {
    std::vector<int32_t> fennel =
        partition_nodes(g, {.num_parts = num_parts, .method = PartitionMethod::kFennel});
    std::vector<int32_t> random =
        partition_nodes(g, {.num_parts = num_parts, .method = PartitionMethod::kRandom});
    const int64_t fennel_cut = cut_in_edges(g, fennel), random_cut = cut_in_edges(g, random);
    EXPECT_LT(fennel_cut, random_cut * 2 / 3)
        << num_parts << " parts: " << fennel_cut << " vs " << random_cut;
    std::vector<int64_t> edges(num_parts, 0), train(num_parts, 0);
    for (int64_t v = 0; v < g.num_nodes; ++v) {
      edges[fennel[v]] += g.in_degree(v);
      train[fennel[v]] += g.train_mask[v];
    }
    // Each count is capped at 1.1 x its mean, rounded up.
    EXPECT_LE(balance(part_sizes(fennel, num_parts)), 1.1 + num_parts / 2708.0) << num_parts;
    EXPECT_LE(balance(edges), 1.1 + num_parts / 10556.0) << num_parts;
    EXPECT_LE(balance(train), 1.1 + num_parts / 140.0) << num_parts;
    // No seed: the same pass gives the same parts.
    EXPECT_EQ(
        partition_nodes(g, {.num_parts = num_parts, .method = PartitionMethod::kFennel, .seed = 9}),
        fennel);
  }
}

TEST(Partitioner, FennelReadsAMappedGraphAsAnInMemoryOne) {
  graph::Graph g = cora();
  const auto dir = test::scratch_dir("fennel-mapped");
  graph::write_binary_graph(g, dir);
  graph::Graph mapped = graph::open_binary_graph(dir);
  ASSERT_TRUE(mapped.col.is_mapped());
  EXPECT_EQ(partition_nodes(mapped, {.num_parts = 4, .method = PartitionMethod::kFennel}),
            partition_nodes(g, {.num_parts = 4, .method = PartitionMethod::kFennel}));
}

TEST(Partitioner, RefusesPartCountsOutOfRange) {
  graph::Graph g = test::path_graph();
  EXPECT_EQ(test::error_of([&] { partition_nodes(g, {.num_parts = 0}); }),
            "--parts: 0 parts, expected at least 1");
  EXPECT_EQ(test::error_of([&] { partition_nodes(g, {.num_parts = 4}); }),
            "--parts: 4 parts for 3 nodes, expected at most 3");
}

TEST(Partitioner, UnknownMethodIsNamed) {
  EXPECT_EQ(parse_partition_method("random"), PartitionMethod::kRandom);
  EXPECT_EQ(test::error_of([] { parse_partition_method("hash"); }),
            "--method: unknown partition method 'hash' (known: metis, random, fennel)");
  for (auto method : {PartitionMethod::kMetis, PartitionMethod::kRandom, PartitionMethod::kFennel})
    EXPECT_EQ(parse_partition_method(partition_method_name(method)), method);
}

TEST(Partitioner, MetisCopesWithNoTrainingNodesAndIsolatedNodes) {
  // Path 0 - 1 - 2 plus isolated 3, nothing in training: METIS gets no
  // all-zero weight and still uses every part.
  graph::Graph g = graph::make_graph({"sparse",
                                      0,
                                      1,
                                      {0, 1, 3, 4, 4},
                                      {1, 0, 2, 1},
                                      {},
                                      {0, 0, 0, 0},
                                      {0, 0, 0, 0},
                                      {0, 0, 0, 0},
                                      {0, 0, 0, 0}},
                                     "sparse");
  std::vector<int32_t> node_part = partition_nodes(g, {.num_parts = 2});
  std::vector<int64_t> sizes = part_sizes(node_part, 2);
  EXPECT_EQ(sizes, (std::vector<int64_t>{2, 2}));
}

}  // namespace
}  // namespace edgegnn::partition
