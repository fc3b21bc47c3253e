#include "graph/npz_datasets.h"

#include <gtest/gtest.h>

#include <array>
#include <fstream>

#include "core/error.h"
#include "graph/npz.h"
#include "test_support/datasets.h"
#include "test_support/errors.h"
#include "test_support/graphs.h"

namespace edgegnn::graph {
namespace {

namespace fs = std::filesystem;

using test::error_of;

using test::to_vector;

NpyArray byte_string(const std::string& text) {
  return NpyArray{NpyDtype::kBytes, static_cast<int64_t>(text.size()), /*shape=*/{}, false,
                  std::vector<uint8_t>(text.begin(), text.end())};
}

// Reddit layout, 6 nodes. Edges as stored (row -> col): 0-1 in both
// directions, 1-2, a self-loop on 2, 3-4 twice, 4-5, 5-0. Symmetrised, with
// duplicates and the self-loop dropped, node v's in-neighbours are:
//   0: {1, 5}  1: {0, 2}  2: {1}  3: {4}  4: {3, 5}  5: {0, 4}
struct RedditFixture {
  std::vector<float> feature = {0, 1, 10, 11, 20, 21, 30, 31, 40, 41, 50, 51};  // 6 x 2
  std::vector<int64_t> label = {0, 1, 2, 0, 1, 2};
  std::vector<int64_t> node_types = {1, 1, 2, 2, 3, 3};
  std::vector<int32_t> row = {0, 1, 1, 2, 3, 4, 5, 3};
  std::vector<int32_t> col = {1, 0, 2, 2, 4, 5, 0, 4};

  void write(const fs::path& dir) const {
    NpzWriter data(dir / "reddit_data.npz", NpzCompression::kDeflated);
    data.add("feature", make_npy<float>({static_cast<int64_t>(feature.size() / 2), 2}, feature));
    data.add("label", make_npy<int64_t>({static_cast<int64_t>(label.size())}, label));
    data.add("node_types",
             make_npy<int64_t>({static_cast<int64_t>(node_types.size())}, node_types));
    data.finish();
    NpzWriter graph(dir / "reddit_graph.npz");
    graph.add("row", make_npy<int32_t>({static_cast<int64_t>(row.size())}, row));
    graph.add("col", make_npy<int32_t>({static_cast<int64_t>(col.size())}, col));
    graph.add("format", byte_string("coo"));
    graph.add("shape", make_npy<int64_t>({2}, std::vector<int64_t>{6, 6}));
    graph.add("data", make_npy<float>({static_cast<int64_t>(row.size())},
                                      std::vector<float>(row.size(), 1.0f)));
    graph.finish();
  }
};

void expect_reddit_fixture(const Graph& g) {
  EXPECT_EQ(g.name, "reddit");
  EXPECT_EQ(g.num_nodes, 6);
  EXPECT_EQ(g.num_features, 2);
  EXPECT_EQ(g.num_classes, 3);
  EXPECT_EQ(to_vector(g.rowptr), (std::vector<int64_t>{0, 2, 4, 5, 6, 8, 10}));
  EXPECT_EQ(to_vector(g.col), (std::vector<int32_t>{1, 5, 0, 2, 1, 4, 3, 5, 0, 4}));
  EXPECT_EQ(to_vector(g.features), RedditFixture().feature);
  EXPECT_EQ(to_vector(g.labels), (std::vector<int32_t>{0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(to_vector(g.train_mask), (std::vector<uint8_t>{1, 1, 0, 0, 0, 0}));
  EXPECT_EQ(to_vector(g.val_mask), (std::vector<uint8_t>{0, 0, 1, 1, 0, 0}));
  EXPECT_EQ(to_vector(g.test_mask), (std::vector<uint8_t>{0, 0, 0, 0, 1, 1}));
}

TEST(RedditNpz, ReadsOurOwnFixture) {
  fs::path dir = test::scratch_dir("reddit");
  RedditFixture().write(dir);
  expect_reddit_fixture(read_reddit_npz(dir));
}

TEST(RedditNpz, ReadsScipyCooAndCsrGraphs) {
  const std::string python = test::python_with_scipy();
  if (python.empty()) GTEST_SKIP() << "python3-numpy/scipy absent";
  fs::path dir = test::scratch_dir("reddit");
  test::run_python_script(python, dir, R"(
import os, sys, numpy as np, scipy.sparse as sp
d = sys.argv[1]
feature = (np.arange(6)[:, None] * 10 + np.arange(2)).astype('f4')
np.savez(d + '/reddit_data.npz', feature=feature, label=np.array([0, 1, 2, 0, 1, 2]),
         node_types=np.array([1, 1, 2, 2, 3, 3]))
row = np.array([0, 1, 1, 2, 3, 4, 5, 3])
col = np.array([1, 0, 2, 2, 4, 5, 0, 4])
adj = sp.coo_matrix((np.ones(len(row), dtype='f4'), (row, col)), shape=(6, 6))
for fmt in ('coo', 'csr'):
    os.makedirs(d + '/' + fmt)
    os.link(d + '/reddit_data.npz', d + '/' + fmt + '/reddit_data.npz')
sp.save_npz(d + '/coo/reddit_graph.npz', adj)
sp.save_npz(d + '/csr/reddit_graph.npz', adj.tocsr())  # sums the duplicate 3 -> 4
)");
  for (std::string format : {"coo", "csr"}) {
    SCOPED_TRACE(format);
    expect_reddit_fixture(read_reddit_npz(dir / format));
  }
}

TEST(RedditNpz, ErrorsNameTheFileAndArray) {
  fs::path dir = test::scratch_dir("reddit");
  const std::string data = (dir / "reddit_data.npz").string();
  const std::string graph = (dir / "reddit_graph.npz").string();
  auto error_with = [&](auto change) {
    RedditFixture fixture;
    change(fixture);
    fixture.write(dir);
    return error_of([&] { read_reddit_npz(dir); });
  };
  EXPECT_EQ(error_with([](RedditFixture& f) { f.col[5] = 6; }),
            graph + "/col.npy: index 6 at element 5 out of range [0, 6)");
  EXPECT_EQ(error_with([](RedditFixture& f) { f.row[0] = -1; }),
            graph + "/row.npy: index -1 at element 0 out of range [0, 6)");
  EXPECT_EQ(error_with([](RedditFixture& f) { f.label[4] = -2; }),
            data + "/label.npy: label -2 of node 4 out of range [0, 2147483647)");
  EXPECT_EQ(error_with([](RedditFixture& f) { f.label.pop_back(); }),
            data + "/label.npy: 5 entries, expected 6");
  EXPECT_EQ(error_with([](RedditFixture& f) { f.node_types[2] = 0; }),
            data + "/node_types.npy: node type 0 of node 2, expected 1, 2 or 3");
  EXPECT_EQ(error_with([](RedditFixture& f) { f.row.pop_back(); }),
            graph + ": 7 rows but 8 columns");
}

TEST(RedditNpz, RejectsMissingArraysAndCorruptFiles) {
  fs::path dir = test::scratch_dir("reddit");
  EXPECT_EQ(error_of([&] { read_reddit_npz(dir); }),
            (dir / "reddit_data.npz").string() + ": cannot open: No such file or directory");

  NpzWriter data(dir / "reddit_data.npz");
  data.add("feature", make_npy<float>({1, 1}, std::vector<float>{0}));
  data.add("label", make_npy<int64_t>({1}, std::vector<int64_t>{0}));
  data.finish();
  EXPECT_EQ(error_of([&] { read_reddit_npz(dir); }),
            (dir / "reddit_data.npz").string() + ": no array 'node_types' (has: feature, label)");

  RedditFixture().write(dir);
  std::ofstream(dir / "reddit_graph.npz", std::ios::trunc) << "PK\x03\x04 not really a zip";
  EXPECT_EQ(
      error_of([&] { read_reddit_npz(dir); }),
      (dir / "reddit_graph.npz").string() + ": not a readable .npz archive: Not a zip archive");
}

// gnn-benchmark layout: 125 nodes in classes of 55 (label 0), 60 (label 1) and
// 10 (label 2), interleaved; a directed ring v -> v+1 as CSR; 4 features, node v
// holding v in column v % 4 (node 0 gets 0.5 + 0.25 from a repeated entry).
struct BenchmarkFixture {
  static constexpr int64_t kNodes = 125;
  std::vector<int64_t> labels;
  std::vector<int64_t> adj_indptr, adj_indices, attr_indptr, attr_indices;
  std::vector<float> attr_data;

  BenchmarkFixture() {
    for (int64_t v = 0; v < kNodes; ++v) labels.push_back(v < 110 ? v % 2 : v < 115 ? 1 : 2);
    for (int64_t v = 0; v <= kNodes; ++v) adj_indptr.push_back(v);
    for (int64_t v = 0; v < kNodes; ++v) adj_indices.push_back((v + 1) % kNodes);
    attr_indptr = {0, 2};
    attr_indices = {0, 0};
    attr_data = {0.5f, 0.25f};
    for (int64_t v = 1; v < kNodes; ++v) {
      attr_indices.push_back(v % 4);
      attr_data.push_back(static_cast<float>(v));
      attr_indptr.push_back(static_cast<int64_t>(attr_indices.size()));
    }
  }

  void write(const fs::path& path) const {
    auto n = [](const auto& values) {
      return std::vector<int64_t>{static_cast<int64_t>(values.size())};
    };
    NpzWriter npz(path);
    npz.add("adj_data", make_npy<float>(n(adj_indices), std::vector<float>(adj_indices.size(), 1)));
    npz.add("adj_indices", make_npy<int64_t>(n(adj_indices), adj_indices));
    npz.add("adj_indptr", make_npy<int64_t>(n(adj_indptr), adj_indptr));
    npz.add("adj_shape", make_npy<int64_t>({2}, std::vector<int64_t>{kNodes, kNodes}));
    npz.add("attr_data", make_npy<float>(n(attr_data), attr_data));
    npz.add("attr_indices", make_npy<int64_t>(n(attr_indices), attr_indices));
    npz.add("attr_indptr", make_npy<int64_t>(n(attr_indptr), attr_indptr));
    npz.add("attr_shape", make_npy<int64_t>({2}, std::vector<int64_t>{kNodes, 4}));
    npz.add("labels", make_npy<int64_t>(n(labels), labels));
    npz.finish();
  }
};

std::vector<float> expected_benchmark_features() {
  std::vector<float> dense(BenchmarkFixture::kNodes * 4, 0.0f);
  dense[0] = 0.75f;
  for (int64_t v = 1; v < BenchmarkFixture::kNodes; ++v)
    dense[v * 4 + v % 4] = static_cast<float>(v);
  return dense;
}

void expect_benchmark_fixture(const Graph& g) {
  const int64_t n = BenchmarkFixture::kNodes;
  EXPECT_EQ(g.num_nodes, n);
  EXPECT_EQ(g.num_features, 4);
  EXPECT_EQ(g.num_classes, 3);
  EXPECT_EQ(g.num_edges(), 2 * n);
  auto neighbours = [&](int64_t v) {
    return std::vector<int32_t>(g.in_neighbors(v).begin(), g.in_neighbors(v).end());
  };
  EXPECT_EQ(neighbours(0), (std::vector<int32_t>{1, 124}));
  EXPECT_EQ(neighbours(50), (std::vector<int32_t>{49, 51}));
  EXPECT_EQ(to_vector(g.features), expected_benchmark_features());
  const std::vector<int64_t> labels = BenchmarkFixture().labels;
  EXPECT_EQ(to_vector(g.labels), std::vector<int32_t>(labels.begin(), labels.end()));
}

// Per class: {train, val, test} counts.
std::vector<std::array<int64_t, 3>> split_counts(const Graph& g) {
  std::vector<std::array<int64_t, 3>> counts(g.num_classes, {0, 0, 0});
  for (int64_t v = 0; v < g.num_nodes; ++v) {
    EXPECT_LE(g.train_mask[v] + g.val_mask[v] + g.test_mask[v], 1) << "node " << v;
    counts[g.labels[v]][0] += g.train_mask[v];
    counts[g.labels[v]][1] += g.val_mask[v];
    counts[g.labels[v]][2] += g.test_mask[v];
  }
  return counts;
}

TEST(GnnBenchmarkNpz, ReadsCsrGraphAndFeaturesAndSplitsTwentyThirtyRestPerClass) {
  fs::path path = test::scratch_dir("benchmark") / "amazon_tiny.npz";
  BenchmarkFixture().write(path);
  Graph g = read_gnn_benchmark_npz(path, /*seed=*/7);
  EXPECT_EQ(g.name, "amazon_tiny");
  expect_benchmark_fixture(g);
  // Class 2 has fewer than 20 + 30 nodes, so none of its nodes is in a split.
  using Counts = std::vector<std::array<int64_t, 3>>;
  EXPECT_EQ(split_counts(g), (Counts{{20, 30, 5}, {20, 30, 10}, {0, 0, 0}}));
}

TEST(GnnBenchmarkNpz, SplitDependsOnlyOnTheSeed) {
  fs::path path = test::scratch_dir("benchmark") / "g.npz";
  BenchmarkFixture().write(path);
  Graph a = read_gnn_benchmark_npz(path, /*seed=*/1);
  Graph b = read_gnn_benchmark_npz(path, /*seed=*/1);
  Graph c = read_gnn_benchmark_npz(path, /*seed=*/2);
  EXPECT_EQ(to_vector(a.train_mask), to_vector(b.train_mask));
  EXPECT_EQ(to_vector(a.val_mask), to_vector(b.val_mask));
  EXPECT_EQ(to_vector(a.test_mask), to_vector(b.test_mask));
  EXPECT_NE(to_vector(a.train_mask), to_vector(c.train_mask));
  EXPECT_NE(to_vector(a.val_mask), to_vector(c.val_mask));
}

TEST(GnnBenchmarkNpz, ReadsDenseAttrMatrixAndSplitMasksWhenPresent) {
  fs::path path = test::scratch_dir("benchmark") / "dense.npz";
  NpzWriter npz(path);
  npz.add("adj_data", make_npy<float>({1}, std::vector<float>{1}));
  npz.add("adj_indices", make_npy<int32_t>({1}, std::vector<int32_t>{0}));
  npz.add("adj_indptr", make_npy<int32_t>({3}, std::vector<int32_t>{0, 0, 1}));
  npz.add("adj_shape", make_npy<int64_t>({2}, std::vector<int64_t>{2, 2}));
  NpyArray matrix = make_npy<double>({2, 3}, std::vector<double>{1, 4, 2, 5, 3, 6});
  matrix.fortran_order = true;
  npz.add("attr_matrix", matrix);
  npz.add("labels", make_npy<int64_t>({2}, std::vector<int64_t>{1, 0}));
  for (std::string mask : {"train_mask", "val_mask", "test_mask"}) {
    NpyArray array =
        make_npy<uint8_t>({2}, std::vector<uint8_t>{mask == "train_mask", mask == "test_mask"});
    array.dtype = NpyDtype::kBool;
    npz.add(mask, array);
  }
  npz.finish();
  Graph g = read_gnn_benchmark_npz(path, /*seed=*/0);
  EXPECT_EQ(to_vector(g.rowptr), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(to_vector(g.col), (std::vector<int32_t>{1, 0}));
  EXPECT_EQ(to_vector(g.features), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(g.num_classes, 2);
  EXPECT_EQ(to_vector(g.train_mask), (std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(to_vector(g.val_mask), (std::vector<uint8_t>{0, 0}));
  EXPECT_EQ(to_vector(g.test_mask), (std::vector<uint8_t>{0, 1}));
}

TEST(GnnBenchmarkNpz, ReadsWhatScipyWrites) {
  const std::string python = test::python_with_scipy();
  if (python.empty()) GTEST_SKIP() << "python3-numpy/scipy absent";
  fs::path dir = test::scratch_dir("benchmark");
  test::run_python_script(python, dir, R"(
import sys, numpy as np, scipy.sparse as sp
n = 125
labels = np.array([v % 2 if v < 110 else 1 if v < 115 else 2 for v in range(n)])
adj = sp.csr_matrix((np.ones(n, dtype='f4'), (np.arange(n), (np.arange(n) + 1) % n)), shape=(n, n))
rows = [0] + list(range(n))
cols = [0] + [v % 4 for v in range(n)]
vals = [0.5, 0.25] + list(range(1, n))
attr = sp.csr_matrix((np.array(vals, dtype='f4'), (rows, cols)), shape=(n, 4))
np.savez_compressed(sys.argv[1] + '/bench.npz', adj_data=adj.data, adj_indices=adj.indices,
         adj_indptr=adj.indptr, adj_shape=adj.shape, attr_data=attr.data,
         attr_indices=attr.indices, attr_indptr=attr.indptr, attr_shape=attr.shape,
         labels=labels, idx_to_node=np.array([{'a': 1}], dtype=object))
)");
  Graph g = read_gnn_benchmark_npz(dir / "bench.npz", /*seed=*/7);
  expect_benchmark_fixture(g);
  fs::path ours = dir / "ours.npz";
  BenchmarkFixture().write(ours);
  Graph h = read_gnn_benchmark_npz(ours, /*seed=*/7);
  EXPECT_EQ(to_vector(g.train_mask), to_vector(h.train_mask));
  EXPECT_EQ(to_vector(g.test_mask), to_vector(h.test_mask));
}

TEST(GnnBenchmarkNpz, ErrorsNameTheFileAndArray) {
  fs::path path = test::scratch_dir("benchmark") / "bad.npz";
  const std::string file = path.string();
  auto error_with = [&](auto change) {
    BenchmarkFixture fixture;
    change(fixture);
    fixture.write(path);
    return error_of([&] { read_gnn_benchmark_npz(path, /*seed=*/0); });
  };
  EXPECT_EQ(error_with([](BenchmarkFixture& f) { f.adj_indices[3] = 125; }),
            file + "/adj_indices.npy: index 125 at element 3 out of range [0, 125)");
  EXPECT_EQ(error_with([](BenchmarkFixture& f) { f.attr_indices[3] = 4; }),
            file + "/attr_indices.npy: index 4 at element 3 out of range [0, 4)");
  EXPECT_EQ(error_with([](BenchmarkFixture& f) { f.labels[9] = -1; }),
            file + "/labels.npy: label -1 of node 9 out of range [0, 2147483647)");
  EXPECT_EQ(error_with([](BenchmarkFixture& f) { f.labels.pop_back(); }),
            file + "/adj_shape.npy: adjacency shape (125, 125) does not match the 124 labels");
  EXPECT_EQ(error_with([](BenchmarkFixture& f) { f.adj_indptr[5] = 3; }),
            file + "/adj_indptr.npy: decreases at row 4");
  EXPECT_EQ(error_with([](BenchmarkFixture& f) { f.adj_indptr.back() = 124; }),
            file + "/adj_indptr.npy: ends at 124, but adj_indices has 125 entries");
  EXPECT_EQ(error_with([](BenchmarkFixture& f) { f.attr_data.pop_back(); }),
            file + "/attr_data.npy: 125 values for 126 indices");

  std::ofstream(path, std::ios::trunc) << "not a zip";
  EXPECT_EQ(error_of([&] { read_gnn_benchmark_npz(path, /*seed=*/0); }),
            file + ": not a readable .npz archive: Not a zip archive");
}

}  // namespace
}  // namespace edgegnn::graph
