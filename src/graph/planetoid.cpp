#include "graph/planetoid.h"

#include <algorithm>

#include "core/error.h"
#include "graph/file_bytes.h"
#include "graph/pickle.h"

namespace edgegnn::graph {
namespace {

namespace fs = std::filesystem;

// The public split's validation set: the 500 nodes after the training nodes.
constexpr int64_t kNumValNodes = 500;
// Far above the real datasets (PubMed's dense features are 40 MB); stops a
// corrupt shape from asking for an allocation no device could make.
constexpr int64_t kMaxFeatureBytes = int64_t{1} << 30;

std::vector<uint8_t> read_file(const fs::path& path) {
  std::error_code ec;
  check(fs::is_regular_file(path, ec),
        "{}: file not found (see the datasets README for where the Planetoid files come from)",
        path.string());
  return read_file_bytes(path);
}

pickle::CsrMatrix read_csr(const fs::path& path) {
  const std::string source = path.string();
  std::vector<uint8_t> bytes = read_file(path);
  pickle::Tree tree = pickle::parse(bytes, source);
  return pickle::to_csr_matrix(tree.root(), source);
}

// One-hot labels: a (rows, classes) int32 array.
pickle::Array<int32_t> read_one_hot(const fs::path& path) {
  const std::string source = path.string();
  std::vector<uint8_t> bytes = read_file(path);
  pickle::Tree tree = pickle::parse(bytes, source);
  pickle::Array<int32_t> labels = pickle::to_int32_array(tree.root(), source);
  check(labels.shape.size() == 2, "{}: label array has {} dimensions, expected 2", source,
        labels.shape.size());
  return labels;
}

// graph: {node: [neighbours]}, one directed edge node -> neighbour per entry,
// with the duplicates and self-loops the file holds.
EdgeList read_edges(const fs::path& path, int64_t num_nodes) {
  const std::string source = path.string();
  std::vector<uint8_t> bytes = read_file(path);
  pickle::Tree tree = pickle::parse(bytes, source);
  EdgeList edges;
  for (const auto& [node, neighbors] : pickle::to_int_list_dict(tree.root(), source)) {
    for (int64_t neighbor : neighbors) {
      check(node >= 0 && node < num_nodes && neighbor >= 0 && neighbor < num_nodes,
            "{}: edge {} -> {} has a node id out of range [0, {})", source, node, neighbor,
            num_nodes);
      edges.src.push_back(static_cast<int32_t>(node));
      edges.dst.push_back(static_cast<int32_t>(neighbor));
    }
  }
  return edges;
}

// test.index: one decimal node id per line, in the row order of tx and ty.
std::vector<int64_t> read_test_index(const fs::path& path) {
  std::vector<uint8_t> bytes = read_file(path);
  std::vector<int64_t> ids;
  int64_t line = 1;
  size_t pos = 0;
  while (pos < bytes.size()) {
    int64_t id = 0;
    size_t digits = 0;
    for (; pos < bytes.size() && bytes[pos] >= '0' && bytes[pos] <= '9'; ++pos, ++digits) {
      id = id * 10 + (bytes[pos] - '0');
      check(id < (int64_t{1} << 31), "{}: line {}: node id out of range", path.string(), line);
    }
    if (pos < bytes.size() && bytes[pos] == '\r') ++pos;
    check(digits > 0 && (pos == bytes.size() || bytes[pos] == '\n'), "{}: line {} is not a node id",
          path.string(), line);
    ids.push_back(id);
    ++pos;
    ++line;
  }
  return ids;
}

// The class of a one-hot row: the first column holding its maximum, or -1 when
// the row is all zero (CiteSeer's nodes missing from test.index).
int32_t label_of(const pickle::Array<int32_t>& one_hot, int64_t row) {
  const int64_t num_classes = one_hot.shape[1];
  const int32_t* values = one_hot.values.data() + row * num_classes;
  int32_t best = -1;
  for (int32_t c = 0; c < num_classes; ++c)
    if (values[c] > 0 && (best < 0 || values[c] > values[best])) best = c;
  return best;
}

// Adds the entries of CSR row `row` to the dense feature row `out`; duplicate
// entries add up, as scipy's todense() does.
void scatter_row(const pickle::CsrMatrix& m, int64_t row, float* out) {
  for (int64_t k = m.indptr[row]; k < m.indptr[row + 1]; ++k) out[m.indices[k]] += m.data[k];
}

}  // namespace

Graph read_planetoid(const std::filesystem::path& dir, const std::string& name) {
  check(name == "cora" || name == "citeseer" || name == "pubmed",
        "unknown Planetoid dataset '{}': expected cora, citeseer or pubmed", name);
  auto file = [&](const char* suffix) { return dir / fmt::format("ind.{}.{}", name, suffix); };
  auto path_of = [&](const char* suffix) { return file(suffix).string(); };

  // allx/ally: nodes 0..n-1; tx/ty: the test nodes; x/y: the first L of allx/ally.
  pickle::CsrMatrix x = read_csr(file("x"));
  pickle::Array<int32_t> y = read_one_hot(file("y"));
  pickle::CsrMatrix allx = read_csr(file("allx"));
  pickle::Array<int32_t> ally = read_one_hot(file("ally"));
  pickle::CsrMatrix tx = read_csr(file("tx"));
  pickle::Array<int32_t> ty = read_one_hot(file("ty"));
  std::vector<int64_t> test_ids = read_test_index(file("test.index"));

  const int64_t n = allx.num_rows;
  const int64_t num_features = allx.num_cols;
  const int64_t num_classes = ally.shape[1];
  const int64_t num_train = y.shape[0];
  check(ally.shape[0] == n, "{}: {} rows, but allx has {}", path_of("ally"), ally.shape[0], n);
  check(x.num_rows == num_train && x.num_cols == num_features,
        "{}: shape ({}, {}), expected ({}, {}) from y and allx", path_of("x"), x.num_rows,
        x.num_cols, num_train, num_features);
  check(y.shape[1] == num_classes && ty.shape[1] == num_classes,
        "{}: y has {} classes and ty {}, but ally has {}", path_of("y"), y.shape[1], ty.shape[1],
        num_classes);
  check(num_classes < (int64_t{1} << 31), "{}: {} classes", path_of("ally"), num_classes);
  check(tx.num_cols == num_features, "{}: {} features, but allx has {}", path_of("tx"), tx.num_cols,
        num_features);
  check(tx.num_rows == ty.shape[0] && tx.num_rows == static_cast<int64_t>(test_ids.size()),
        "{}: {} rows, but ty has {} and test.index {}", path_of("tx"), tx.num_rows, ty.shape[0],
        test_ids.size());
  check(num_train + kNumValNodes <= n,
        "{}: {} training plus {} validation nodes do not fit the {} rows of allx", path_of("y"),
        num_train, kNumValNodes, n);

  // The test ids fill n..max; ids in that range not listed (CiteSeer has 15)
  // are nodes without features or label.
  check(!test_ids.empty(), "{}: no test ids", path_of("test.index"));
  const int64_t min_id = *std::min_element(test_ids.begin(), test_ids.end());
  const int64_t num_nodes = *std::max_element(test_ids.begin(), test_ids.end()) + 1;
  check(min_id == n, "{}: test ids start at {}, expected len(allx) = {}", path_of("test.index"),
        min_id, n);
  // Divided rather than multiplied: two int32-sized counts can overflow int64 bytes.
  check(num_features <= kMaxFeatureBytes / static_cast<int64_t>(sizeof(float)) / num_nodes,
        "{}: {} x {} features exceed {} bytes", path_of("allx"), num_nodes, num_features,
        kMaxFeatureBytes);

  std::vector<float> features(num_nodes * num_features, 0.0f);
  std::vector<int32_t> labels(num_nodes, -1);
  std::vector<uint8_t> test_mask(num_nodes, 0);
  for (int64_t v = 0; v < n; ++v) {
    scatter_row(allx, v, features.data() + v * num_features);
    labels[v] = label_of(ally, v);
  }
  for (int64_t k = 0; k < tx.num_rows; ++k) {
    const int64_t v = test_ids[k];
    check(test_mask[v] == 0, "{}: node {} listed twice", path_of("test.index"), v);
    test_mask[v] = 1;
    scatter_row(tx, k, features.data() + v * num_features);
    labels[v] = label_of(ty, k);
  }
  std::vector<uint8_t> train_mask(num_nodes, 0);
  std::vector<uint8_t> val_mask(num_nodes, 0);
  for (int64_t v = 0; v < num_train; ++v) train_mask[v] = 1;
  for (int64_t v = num_train; v < num_train + kNumValNodes; ++v) val_mask[v] = 1;

  // The CSR symmetrises and deduplicates; self-loops stay, as in the GCN adjacency.
  auto [rowptr, col] =
      build_in_csr(num_nodes, read_edges(file("graph"), num_nodes),
                   {/*symmetrize=*/true, /*keep_self_loops=*/true}, path_of("graph"));

  return make_graph({name, num_features, static_cast<int32_t>(num_classes), std::move(rowptr),
                     std::move(col), std::move(features), std::move(labels),
                     std::move(train_mask), std::move(val_mask), std::move(test_mask)},
                    (dir / ("ind." + name)).string());
}

}  // namespace edgegnn::graph
