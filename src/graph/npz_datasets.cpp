#include "graph/npz_datasets.h"

#include <algorithm>
#include <climits>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "graph/npz.h"

namespace edgegnn::graph {
namespace {

// gnn-benchmark's split: per class, this many training then validation nodes.
constexpr int64_t kTrainPerClass = 20;
constexpr int64_t kValPerClass = 30;
// Node ids are int32 in the CSR.
constexpr int64_t kMaxNodes = int64_t{1} << 31;

std::string member_source(const NpzReader& npz, const std::string& name) {
  return npz.path() + "/" + name + ".npy";
}

// Reads array `name` and checks that it has `ndim` dimensions.
NpyArray read_array(NpzReader& npz, const std::string& name, size_t ndim) {
  NpyArray array = npz.read(name);
  check(array.shape.size() == ndim, "{}: expected {} dimension(s), got shape {}",
        member_source(npz, name), ndim, npy_shape_string(array.shape));
  return array;
}

// A 1-D integer array; `length` < 0 accepts any length.
std::vector<int64_t> read_int_vector(NpzReader& npz, const std::string& name, int64_t length) {
  NpyArray array = read_array(npz, name, 1);
  check(length < 0 || array.shape[0] == length, "{}: {} entries, expected {}",
        member_source(npz, name), array.shape[0], length);
  return as_int64(array, member_source(npz, name));
}

// A 1-D array of ids, each checked to lie in [0, bound).
std::vector<int32_t> read_ids(NpzReader& npz, const std::string& name, int64_t bound) {
  const std::string source = member_source(npz, name);
  std::vector<int32_t> ids = as_int32_checked(read_array(npz, name, 1), source);
  for (size_t i = 0; i < ids.size(); ++i)
    check(ids[i] >= 0 && ids[i] < bound, "{}: index {} at element {} out of range [0, {})", source,
          ids[i], i, bound);
  return ids;
}

// Class ids in [0, INT32_MAX), `num_nodes` of them (any number if < 0); sets
// *num_classes to the largest plus one.
std::vector<int32_t> read_labels(NpzReader& npz, const std::string& name, int64_t num_nodes,
                                 int32_t* num_classes) {
  const std::string source = member_source(npz, name);
  std::vector<int64_t> values = read_int_vector(npz, name, num_nodes);
  std::vector<int32_t> labels(values.size());
  int32_t max_label = -1;
  for (size_t v = 0; v < values.size(); ++v) {
    check(values[v] >= 0 && values[v] < INT32_MAX, "{}: label {} of node {} out of range [0, {})",
          source, values[v], v, INT32_MAX);
    labels[v] = static_cast<int32_t>(values[v]);
    max_label = std::max(max_label, labels[v]);
  }
  *num_classes = max_label + 1;
  return labels;
}

// A 0/1 mask over the nodes, stored as bool or integers.
std::vector<uint8_t> read_mask(NpzReader& npz, const std::string& name, int64_t num_nodes) {
  std::vector<int64_t> values = read_int_vector(npz, name, num_nodes);
  std::vector<uint8_t> mask(values.size());
  for (size_t v = 0; v < values.size(); ++v) {
    check(values[v] == 0 || values[v] == 1, "{}: value {} of node {} is not 0 or 1",
          member_source(npz, name), values[v], v);
    mask[v] = static_cast<uint8_t>(values[v]);
  }
  return mask;
}

// The (rows, cols) of a scipy sparse matrix, from its `<prefix>shape` array.
std::pair<int64_t, int64_t> read_sparse_shape(NpzReader& npz, const std::string& prefix) {
  std::vector<int64_t> shape = read_int_vector(npz, prefix + "shape", 2);
  check(shape[0] >= 0 && shape[1] >= 0, "{}: negative shape ({}, {})",
        member_source(npz, prefix + "shape"), shape[0], shape[1]);
  return {shape[0], shape[1]};
}

// The structure of a CSR matrix stored as <prefix>indptr and <prefix>indices:
// the entries of row r are indices[indptr[r] .. indptr[r+1]).
struct Csr {
  std::vector<int64_t> indptr;
  std::vector<int32_t> indices;
};

Csr read_csr(NpzReader& npz, const std::string& prefix, int64_t num_rows, int64_t num_cols) {
  Csr csr;
  csr.indptr = read_int_vector(npz, prefix + "indptr", num_rows + 1);
  csr.indices = read_ids(npz, prefix + "indices", num_cols);
  const std::string source = member_source(npz, prefix + "indptr");
  check(csr.indptr[0] == 0, "{}: starts at {}, expected 0", source, csr.indptr[0]);
  for (int64_t r = 0; r < num_rows; ++r)
    check(csr.indptr[r] <= csr.indptr[r + 1], "{}: decreases at row {}", source, r);
  check(csr.indptr[num_rows] == static_cast<int64_t>(csr.indices.size()),
        "{}: ends at {}, but {}indices has {} entries", source, csr.indptr[num_rows], prefix,
        csr.indices.size());
  return csr;
}

// Entry (r, c) of an adjacency matrix is the edge r -> c, as PyG reads it.
EdgeList edges_from_csr(Csr csr) {
  EdgeList edges;
  edges.src.resize(csr.indices.size());
  const int64_t num_rows = static_cast<int64_t>(csr.indptr.size()) - 1;
  for (int64_t r = 0; r < num_rows; ++r)
    for (int64_t k = csr.indptr[r]; k < csr.indptr[r + 1]; ++k)
      edges.src[k] = static_cast<int32_t>(r);
  edges.dst = std::move(csr.indices);
  return edges;
}

// The edges of a matrix written by scipy.sparse.save_npz in COO or CSR form.
EdgeList read_scipy_adjacency(NpzReader& npz, int64_t num_nodes) {
  const std::string format = as_byte_string(npz.read("format"), member_source(npz, "format"));
  auto [rows, cols] = read_sparse_shape(npz, "");
  check(rows == num_nodes && cols == num_nodes,
        "{}: adjacency shape ({}, {}) does not match {} nodes", member_source(npz, "shape"), rows,
        cols, num_nodes);
  if (format == "csr") return edges_from_csr(read_csr(npz, "", num_nodes, num_nodes));
  check(format == "coo", "{}: unsupported sparse format '{}' (expected coo or csr)",
        member_source(npz, "format"), format);
  EdgeList edges;
  edges.src = read_ids(npz, "row", num_nodes);
  edges.dst = read_ids(npz, "col", num_nodes);
  check(edges.src.size() == edges.dst.size(), "{}: {} rows but {} columns", npz.path(),
        edges.src.size(), edges.dst.size());
  return edges;
}

void set_structure(Graph& g, const EdgeList& edges, const std::string& source) {
  auto [rowptr, col] = build_in_csr(g.num_nodes, edges, CsrOptions{}, source);
  g.rowptr = Buffer<int64_t>(std::move(rowptr));
  g.col = Buffer<int32_t>(std::move(col));
}

// Dense row-major [num_nodes x num_features] features from gnn-benchmark's
// attr_* CSR matrix; repeated entries add up, as scipy's todense does.
std::vector<float> read_csr_features(NpzReader& npz, int64_t num_nodes, int64_t* num_features) {
  auto [rows, cols] = read_sparse_shape(npz, "attr_");
  check(rows == num_nodes, "{}: {} feature rows for {} nodes", member_source(npz, "attr_shape"),
        rows, num_nodes);
  Csr csr = read_csr(npz, "attr_", rows, cols);
  const std::string data_source = member_source(npz, "attr_data");
  std::vector<float> data = as_float32(read_array(npz, "attr_data", 1), data_source);
  check(data.size() == csr.indices.size(), "{}: {} values for {} indices", data_source, data.size(),
        csr.indices.size());
  int64_t total = 0;
  check(!__builtin_mul_overflow(rows, cols, &total), "{}: shape ({}, {}) is too large",
        member_source(npz, "attr_shape"), rows, cols);
  std::vector<float> dense;
  try {
    dense.assign(total, 0.0f);
  } catch (const std::bad_alloc&) {
    fail("{}: cannot allocate {} x {} dense features", npz.path(), rows, cols);
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = csr.indptr[r]; k < csr.indptr[r + 1]; ++k)
      dense[r * cols + csr.indices[k]] += data[k];
  *num_features = cols;
  return dense;
}

// gnn-benchmark's split (Shchur et al., make_split): per class, in class order,
// shuffle the class's nodes and take 20 for train, 30 for val, the rest for
// test. Classes with fewer than 50 nodes get no split at all: the paper's code
// drops them from the graph before splitting. Shuffles draw rng() % (i + 1)
// rather than use std::shuffle, whose use of the engine differs between
// standard libraries: a seed must give the same split on every device.
void stratified_split(Graph& g, const std::vector<int32_t>& labels, uint64_t seed) {
  std::vector<uint8_t> train(g.num_nodes, 0), val(g.num_nodes, 0), test(g.num_nodes, 0);
  std::vector<int32_t> order(g.num_nodes);
  for (int64_t v = 0; v < g.num_nodes; ++v) order[v] = static_cast<int32_t>(v);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return labels[a] < labels[b]; });
  std::mt19937_64 rng(seed);
  for (size_t begin = 0; begin < order.size();) {
    size_t end = begin;
    while (end < order.size() && labels[order[end]] == labels[order[begin]]) ++end;
    const int64_t size = static_cast<int64_t>(end - begin);
    if (size >= kTrainPerClass + kValPerClass) {
      int32_t* members = order.data() + begin;
      for (int64_t i = size - 1; i > 0; --i)
        std::swap(members[i], members[rng() % static_cast<uint64_t>(i + 1)]);
      for (int64_t i = 0; i < size; ++i) {
        auto& mask = i < kTrainPerClass ? train : i < kTrainPerClass + kValPerClass ? val : test;
        mask[members[i]] = 1;
      }
    }
    begin = end;
  }
  g.train_mask = Buffer<uint8_t>(std::move(train));
  g.val_mask = Buffer<uint8_t>(std::move(val));
  g.test_mask = Buffer<uint8_t>(std::move(test));
}

}  // namespace

Graph read_reddit_npz(const std::filesystem::path& dir) {
  Graph g;
  g.name = "reddit";
  {
    NpzReader data(dir / "reddit_data.npz");
    NpyArray feature = read_array(data, "feature", 2);
    g.num_nodes = feature.shape[0];
    g.num_features = feature.shape[1];
    check(g.num_nodes < kMaxNodes, "{}: {} nodes, at most 2^31 - 1 supported",
          member_source(data, "feature"), g.num_nodes);
    g.features = Buffer<float>(as_float32(feature, member_source(data, "feature")));
    feature = NpyArray();  // the raw bytes are no longer needed

    g.labels = Buffer<int32_t>(read_labels(data, "label", g.num_nodes, &g.num_classes));
    // PyG's Reddit: node_types 1, 2, 3 mark train, val and test nodes.
    std::vector<int64_t> types = read_int_vector(data, "node_types", g.num_nodes);
    std::vector<uint8_t> train(g.num_nodes), val(g.num_nodes), test(g.num_nodes);
    for (int64_t v = 0; v < g.num_nodes; ++v) {
      check(types[v] >= 1 && types[v] <= 3, "{}: node type {} of node {}, expected 1, 2 or 3",
            member_source(data, "node_types"), types[v], v);
      train[v] = types[v] == 1;
      val[v] = types[v] == 2;
      test[v] = types[v] == 3;
    }
    g.train_mask = Buffer<uint8_t>(std::move(train));
    g.val_mask = Buffer<uint8_t>(std::move(val));
    g.test_mask = Buffer<uint8_t>(std::move(test));
  }
  NpzReader graph(dir / "reddit_graph.npz");
  set_structure(g, read_scipy_adjacency(graph, g.num_nodes), graph.path());
  g.validate(dir.string());
  return g;
}

Graph read_gnn_benchmark_npz(const std::filesystem::path& file, uint64_t seed) {
  NpzReader npz(file);
  Graph g;
  g.name = file.stem().string();
  // The labels fix the node count; every other array is checked against it.
  std::vector<int32_t> labels = read_labels(npz, "labels", /*num_nodes=*/-1, &g.num_classes);
  g.num_nodes = static_cast<int64_t>(labels.size());
  check(g.num_nodes < kMaxNodes, "{}: {} nodes, at most 2^31 - 1 supported",
        member_source(npz, "labels"), g.num_nodes);

  auto [rows, cols] = read_sparse_shape(npz, "adj_");
  check(rows == g.num_nodes && cols == g.num_nodes,
        "{}: adjacency shape ({}, {}) does not match the {} labels",
        member_source(npz, "adj_shape"), rows, cols, g.num_nodes);
  set_structure(g, edges_from_csr(read_csr(npz, "adj_", g.num_nodes, g.num_nodes)), npz.path());

  if (npz.contains("attr_data")) {
    g.features = Buffer<float>(read_csr_features(npz, g.num_nodes, &g.num_features));
  } else if (npz.contains("attr_matrix")) {
    NpyArray matrix = read_array(npz, "attr_matrix", 2);
    check(matrix.shape[0] == g.num_nodes, "{}: {} feature rows for {} nodes",
          member_source(npz, "attr_matrix"), matrix.shape[0], g.num_nodes);
    g.num_features = matrix.shape[1];
    g.features = Buffer<float>(as_float32(matrix, member_source(npz, "attr_matrix")));
  } else {
    fail(
        "{}: no node features (expected attr_data/attr_indices/attr_indptr/attr_shape or "
        "attr_matrix)",
        npz.path());
  }

  if (npz.contains("train_mask") && npz.contains("val_mask") && npz.contains("test_mask")) {
    g.train_mask = Buffer<uint8_t>(read_mask(npz, "train_mask", g.num_nodes));
    g.val_mask = Buffer<uint8_t>(read_mask(npz, "val_mask", g.num_nodes));
    g.test_mask = Buffer<uint8_t>(read_mask(npz, "test_mask", g.num_nodes));
  } else {
    stratified_split(g, labels, seed);
  }
  g.labels = Buffer<int32_t>(std::move(labels));
  g.validate(file.string());
  return g;
}

}  // namespace edgegnn::graph
