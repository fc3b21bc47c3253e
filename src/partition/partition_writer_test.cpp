#include "partition/partition_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "graph/binary_format.h"
#include "graph/dataset.h"
#include "test_support/datasets.h"
#include "test_support/graphs.h"

namespace edgegnn::partition {
namespace {

namespace fs = std::filesystem;

template <typename T>
std::vector<T> values(const graph::Buffer<T>& b) {
  return {b.begin(), b.end()};
}
template <typename T>
std::vector<T> values(std::span<const T> s) {
  return {s.begin(), s.end()};
}

TEST(PartitionWriter, WritesTheHeaderExample) {
  auto dir = test::scratch_dir("partition");
  graph::Graph g = test::path_graph();
  const std::vector<int32_t> node_part = {1, 0, 0};
  PartitionWriteOptions options;
  options.num_parts = 2;
  PartitionBook book = write_partition(g, node_part, dir, options);
  EXPECT_EQ(range_ids(node_part, 2), (std::vector<int32_t>{2, 0, 1}));
  EXPECT_EQ(book.offsets, (std::vector<int64_t>{0, 2, 3}));

  graph::Graph p0 = graph::open_binary_graph(dir / "part-0");
  EXPECT_EQ(values(p0.global_ids), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(values(p0.rowptr), (std::vector<int64_t>{0, 2, 3}));
  EXPECT_EQ(values(p0.col), (std::vector<int32_t>{1, 2, 0}));
  EXPECT_EQ(values(p0.features), (std::vector<float>{3, 4, 5, 6}));
  EXPECT_EQ(values(p0.labels), (std::vector<int32_t>{1, -1}));
  EXPECT_EQ(values(p0.test_mask), (std::vector<uint8_t>{0, 1}));
  EXPECT_EQ(p0.num_sources(), 3);
  EXPECT_EQ(p0.name, "path");
  graph::Graph p1 = graph::open_binary_graph(dir / "part-1");
  EXPECT_EQ(values(p1.global_ids), (std::vector<int32_t>{2}));
  EXPECT_EQ(values(p1.rowptr), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(values(p1.col), (std::vector<int32_t>{0}));
  EXPECT_EQ(values(p1.train_mask), (std::vector<uint8_t>{1}));

  const PartitionSummary& s = book.summary;
  EXPECT_EQ(s.num_undirected_edges, 2);
  EXPECT_EQ(s.num_cut_edges, 1);
  EXPECT_EQ(s.num_cut_in_edges, 2);
  ASSERT_EQ(s.parts.size(), 2u);
  EXPECT_EQ(s.parts[0].num_nodes, 2);
  EXPECT_EQ(s.parts[0].num_edges, 3);
  EXPECT_EQ(s.parts[0].num_remote_edges, 1);
  EXPECT_EQ(s.parts[1].num_train, 1);
  EXPECT_EQ(s.parts[0].num_halo, 1);
  EXPECT_EQ(s.parts[1].num_halo, 1);
  EXPECT_GT(s.parts[1].bytes, 0u);
  EXPECT_DOUBLE_EQ(s.balance_nodes(), 2.0 / 1.5);
  EXPECT_DOUBLE_EQ(s.balance_train(), 2.0);
}

// Writes Cora in 4 METIS parts and checks every part against the whole graph.
class CoraPartition : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    g_ = new graph::Graph(
        graph::load_dataset("cora", (test::datasets_dir() / "planetoid").string()));
    dir_ = new fs::path(test::scratch_dir("cora-parts"));
    node_part_ = new std::vector<int32_t>(partition_nodes(*g_, {.num_parts = 4, .seed = 3}));
    int calls = 0;
    PartitionWriteOptions options;
    options.num_parts = 4;
    options.seed = 3;
    options.on_part = [&](int part) { EXPECT_EQ(part, calls++); };
    book_ = new PartitionBook(write_partition(*g_, *node_part_, *dir_, options));
    EXPECT_EQ(calls, 4);
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete book_;
    delete node_part_;
    delete dir_;
    delete g_;
  }
  static graph::Graph* g_;
  static fs::path* dir_;
  static std::vector<int32_t>* node_part_;
  static PartitionBook* book_;
};
graph::Graph* CoraPartition::g_ = nullptr;
fs::path* CoraPartition::dir_ = nullptr;
std::vector<int32_t>* CoraPartition::node_part_ = nullptr;
PartitionBook* CoraPartition::book_ = nullptr;

TEST_F(CoraPartition, EveryNodeIsInExactlyOnePartWithItsEdgesAndData) {
  const graph::Graph& g = *g_;
  const std::vector<int32_t> new_ids = range_ids(*node_part_, 4);
  std::vector<int32_t> original(g.num_nodes);
  for (int32_t v = 0; v < g.num_nodes; ++v) original[new_ids[v]] = v;
  std::vector<int> times_owned(g.num_nodes, 0);
  int64_t edges = 0;
  for (int k = 0; k < 4; ++k) {
    graph::Graph p =
        graph::open_binary_graph(part_directory(*dir_, k), {.verify_checksums = true, .parts = {}});
    EXPECT_EQ(p.num_sources(), g.num_nodes);
    EXPECT_EQ(p.num_features, g.num_features);
    EXPECT_EQ(p.num_classes, g.num_classes);
    edges += p.num_edges();
    for (int64_t i = 0; i < p.num_nodes; ++i) {
      const int32_t v = original[p.global_ids[i]];
      ++times_owned[v];
      EXPECT_EQ((*node_part_)[v], k);
      std::vector<int32_t> renamed;
      for (int32_t u : g.in_neighbors(v)) renamed.push_back(new_ids[u]);
      std::sort(renamed.begin(), renamed.end());
      EXPECT_EQ(values(p.in_neighbors(i)), renamed) << "node " << v;
      EXPECT_EQ(values(p.feature_row(i)), values(g.feature_row(v))) << "node " << v;
      EXPECT_EQ(p.labels[i], g.labels[v]);
      EXPECT_EQ(p.train_mask[i], g.train_mask[v]);
      EXPECT_EQ(p.val_mask[i], g.val_mask[v]);
      EXPECT_EQ(p.test_mask[i], g.test_mask[v]);
    }
  }
  EXPECT_EQ(edges, g.num_edges());
  EXPECT_EQ(std::count(times_owned.begin(), times_owned.end(), 1), g.num_nodes);
}

TEST_F(CoraPartition, BookGivesEachPartAContiguousRangeOfIds) {
  PartitionBook book = open_partition_book(*dir_);
  EXPECT_EQ(book.dataset.name, "cora");
  EXPECT_EQ(book.dataset.num_nodes, 2708);
  EXPECT_EQ(book.dataset.num_edges, 10556);
  EXPECT_EQ(book.num_parts, 4);
  EXPECT_EQ(book.method, PartitionMethod::kMetis);
  EXPECT_EQ(book.seed, 3u);
  EXPECT_EQ(book.offsets, book_->offsets);
  ASSERT_EQ(book.offsets.size(), 5u);
  EXPECT_EQ(book.memory_bytes(), 5 * sizeof(int64_t));
  for (int k = 0; k < 4; ++k) {
    graph::Graph p = graph::open_binary_graph(part_directory(*dir_, k));
    EXPECT_EQ(p.num_nodes, book.offsets[k + 1] - book.offsets[k]);
    EXPECT_EQ(p.num_nodes, std::count(node_part_->begin(), node_part_->end(), k));
    for (int64_t i = 0; i < p.num_nodes; ++i) EXPECT_EQ(p.global_ids[i], book.offsets[k] + i);
  }
}

TEST_F(CoraPartition, SummaryCountsMatchABruteForceRecount) {
  const graph::Graph& g = *g_;
  const std::vector<int32_t>& part = *node_part_;
  std::set<std::pair<int32_t, int32_t>> undirected, cut;
  int64_t cut_in = 0;
  std::vector<std::set<int32_t>> halo(4);
  std::vector<int64_t> nodes(4), edges(4), remote_edges(4), train(4);
  for (int32_t v = 0; v < g.num_nodes; ++v) {
    ++nodes[part[v]];
    train[part[v]] += g.train_mask[v];
    edges[part[v]] += g.in_degree(v);
    for (int32_t u : g.in_neighbors(v)) {
      if (u == v) continue;
      undirected.insert({std::min(u, v), std::max(u, v)});
      if (part[u] == part[v]) continue;
      ++cut_in;
      ++remote_edges[part[v]];
      cut.insert({std::min(u, v), std::max(u, v)});
      halo[part[v]].insert(u);
    }
  }
  const PartitionSummary& s = book_->summary;
  EXPECT_EQ(s.num_undirected_edges, static_cast<int64_t>(undirected.size()));
  EXPECT_EQ(s.num_undirected_edges, 5278);  // Cora's 10556 directed edges, both ways
  EXPECT_EQ(s.num_cut_edges, static_cast<int64_t>(cut.size()));
  EXPECT_EQ(s.num_cut_in_edges, cut_in);
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(s.parts[k].num_nodes, nodes[k]);
    EXPECT_EQ(s.parts[k].num_edges, edges[k]);
    EXPECT_EQ(s.parts[k].num_remote_edges, remote_edges[k]);
    EXPECT_EQ(s.parts[k].num_train, train[k]);
    EXPECT_EQ(s.parts[k].num_halo, static_cast<int64_t>(halo[k].size()));
    uint64_t bytes = 0;
    for (const auto& f : fs::directory_iterator(part_directory(*dir_, k))) bytes += f.file_size();
    EXPECT_EQ(s.parts[k].bytes, bytes);
  }
  // Read back from partition.json unchanged.
  PartitionBook book = open_partition_book(*dir_);
  EXPECT_EQ(book.summary.num_cut_edges, s.num_cut_edges);
  EXPECT_EQ(book.summary.parts[3].num_halo, s.parts[3].num_halo);
  EXPECT_EQ(book.summary.parts[3].num_remote_edges, s.parts[3].num_remote_edges);
  EXPECT_EQ(book.summary.parts[3].bytes, s.parts[3].bytes);
}

TEST_F(CoraPartition, SummaryTablePrintsCutBalanceAndParts) {
  std::string table = format_partition_summary(book_->summary);
  EXPECT_NE(table.find(fmt::format("{} of 5278 undirected edges", book_->summary.num_cut_edges)),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("balance       nodes 1.0"), std::string::npos) << table;
  EXPECT_NE(table.find("    3 "), std::string::npos) << table;
}

TEST(PartitionWriter, RefusesPartIdsOutOfRange) {
  auto dir = test::scratch_dir("partition");
  graph::Graph g = test::path_graph();
  const std::vector<int32_t> node_part = {0, 2, 1};
  try {
    PartitionWriteOptions options;
    options.num_parts = 2;
    write_partition(g, node_part, dir, options);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "path: node 1 assigned to part 2 of 2");
  }
}

}  // namespace
}  // namespace edgegnn::partition
