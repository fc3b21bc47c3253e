#include "graph/planetoid.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "test_support/datasets.h"

namespace edgegnn::graph {
namespace {

namespace fs = std::filesystem;

fs::path planetoid_dir() { return test::datasets_dir() / "planetoid"; }

std::vector<int64_t> class_counts(const Graph& g) {
  std::vector<int64_t> counts(g.num_classes, 0);
  for (int32_t label : g.labels)
    if (label >= 0) ++counts[label];
  return counts;
}

int64_t count_self_loops(const Graph& g) {
  int64_t loops = 0;
  for (int64_t v = 0; v < g.num_nodes; ++v)
    for (int32_t u : g.in_neighbors(v)) loops += u == v;
  return loops;
}

// Columns of the nonzero features of node v.
std::vector<int64_t> nonzero_columns(const Graph& g, int64_t v) {
  std::vector<int64_t> columns;
  std::span<const float> row = g.feature_row(v);
  for (size_t c = 0; c < row.size(); ++c)
    if (row[c] != 0.0f) columns.push_back(static_cast<int64_t>(c));
  return columns;
}

std::string error_of(const fs::path& dir, const std::string& name) {
  try {
    read_planetoid(dir, name);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Planetoid, CoraMatchesThePublicSplit) {
  Graph g = read_planetoid(planetoid_dir(), "cora");
  EXPECT_EQ(g.name, "cora");
  EXPECT_EQ(g.num_nodes, 2708);
  EXPECT_EQ(g.num_edges(), 10556);
  EXPECT_EQ(g.num_features, 1433);
  EXPECT_EQ(g.num_classes, 7);
  EXPECT_EQ(count_mask(g.train_mask), 140);
  EXPECT_EQ(count_mask(g.val_mask), 500);
  EXPECT_EQ(count_mask(g.test_mask), 1000);
  EXPECT_EQ(class_counts(g), (std::vector<int64_t>{351, 217, 418, 818, 426, 298, 180}));
  EXPECT_EQ(count_self_loops(g), 0);
  for (float f : g.features) ASSERT_TRUE(f == 0.0f || f == 1.0f) << f;
}

TEST(Planetoid, CoraTestNodeHoldsItsTxRow) {
  Graph g = read_planetoid(planetoid_dir(), "cora");
  // Line 0 of ind.cora.test.index is 2692; tx[0].indices, from scipy.
  EXPECT_EQ(nonzero_columns(g, 2692),
            (std::vector<int64_t>{311, 314, 353, 505, 510, 621, 1075, 1132, 1171, 1226, 1230, 1301,
                                  1379, 1389, 1392}));
  // allx[5].indices, from scipy.
  EXPECT_EQ(nonzero_columns(g, 5), (std::vector<int64_t>{23, 247, 291, 378, 474, 507, 801, 1131,
                                                         1159, 1177, 1328, 1333, 1379}));
  EXPECT_EQ(g.labels[2692], 3);  // argmax of ty[0]
  EXPECT_TRUE(g.test_mask[2692]);
}

TEST(Planetoid, CiteSeerKeepsSelfLoopsAndItsMissingTestIds) {
  Graph g = read_planetoid(planetoid_dir(), "citeseer");
  EXPECT_EQ(g.num_nodes, 3327);
  EXPECT_EQ(g.num_features, 3703);
  EXPECT_EQ(g.num_classes, 6);
  EXPECT_EQ(count_mask(g.train_mask), 120);
  EXPECT_EQ(count_mask(g.val_mask), 500);
  EXPECT_EQ(count_mask(g.test_mask), 1000);
  // 4552 undirected edges both ways plus 124 self-loops; scipy agrees.
  EXPECT_EQ(count_self_loops(g), 124);
  EXPECT_EQ(g.num_edges(), 2 * 4552 + 124);
  EXPECT_EQ(class_counts(g), (std::vector<int64_t>{249, 590, 668, 701, 596, 508}));
  for (int64_t v :
       {2407, 2489, 2553, 2682, 2781, 2953, 3042, 3063, 3212, 3214, 3250, 3292, 3305, 3306, 3309}) {
    EXPECT_EQ(g.labels[v], -1) << v;
    EXPECT_TRUE(nonzero_columns(g, v).empty()) << v;
    EXPECT_FALSE(g.train_mask[v] || g.val_mask[v] || g.test_mask[v]) << v;
  }
}

TEST(Planetoid, CiteSeerTestNodeHoldsItsTxRow) {
  Graph g = read_planetoid(planetoid_dir(), "citeseer");
  // Line 0 of ind.citeseer.test.index is 2488; tx[0].indices, from scipy.
  EXPECT_EQ(nonzero_columns(g, 2488),
            (std::vector<int64_t>{19,   21,   169,  170,  425,  459,  510,  511,  532,  729,  865,
                                  878,  1093, 1292, 1478, 1480, 1613, 1705, 1733, 1790, 1831, 1916,
                                  2081, 2204, 2513, 2541, 2604, 2670, 2718, 2735, 2741, 2768, 2883,
                                  2990, 2997, 3126, 3202, 3257, 3579, 3668, 3675}));
  EXPECT_EQ(g.labels[2488], 2);  // argmax of ty[0]
}

TEST(Planetoid, PubMedWithoutAllxNamesTheMissingFile) {
  if (fs::exists(planetoid_dir() / "ind.pubmed.allx")) {
    EXPECT_EQ(read_planetoid(planetoid_dir(), "pubmed").num_nodes, 19717);
    return;
  }
  std::string message = error_of(planetoid_dir(), "pubmed");
  EXPECT_NE(message.find((planetoid_dir() / "ind.pubmed.allx").string()), std::string::npos)
      << message;
  EXPECT_NE(message.find("README"), std::string::npos) << message;
}

// Writes ind.pubmed.allx in the layout of the other Planetoid files: Python 2
// strings and module names, through the pure-Python pickler. Rows 0..59 are x;
// row i >= 60 holds (i % 7 + 1) / 8 in column i % 500.
constexpr const char* kWriteAllx = R"(
import pickle, struct, sys
import numpy as np, scipy.sparse as sp

class Python2Pickler(pickle._Pickler):
    dispatch = pickle._Pickler.dispatch.copy()
    names = {sp.csr_matrix: ('scipy.sparse.csr', 'csr_matrix'),
             np.ndarray: ('numpy', 'ndarray'), np.dtype: ('numpy', 'dtype'),
             np.core.multiarray._reconstruct: ('numpy.core.multiarray', '_reconstruct')}

    def write_string(self, data):
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack('<i', len(data)) + data)

    def save_bytes(self, obj):
        self.write_string(obj)
        self.memoize(obj)

    def save_str(self, obj):
        self.write_string(obj.encode('latin1'))
        self.memoize(obj)

    def save_global(self, obj, name=None):
        module, name = self.names[obj]
        self.write(pickle.GLOBAL + f'{module}\n{name}\n'.encode())
        self.memoize(obj)

    dispatch[bytes] = save_bytes
    dispatch[str] = save_str

folder = sys.argv[1]
x = pickle.load(open(folder + '/ind.pubmed.x', 'rb'), encoding='latin1')
ids = np.arange(x.shape[0], 18717)
rest = sp.csr_matrix((((ids % 7) + 1) / 8, (ids - x.shape[0], ids % x.shape[1])),
                     shape=(len(ids), x.shape[1]))
allx = sp.vstack([x, rest]).tocsr().astype(np.float32)
allx.indices = allx.indices.astype(np.int32)
allx.indptr = allx.indptr.astype(np.int32)
with open(folder + '/ind.pubmed.allx', 'wb') as f:
    Python2Pickler(f, protocol=2).dump(allx)
)";

TEST(Planetoid, PubMedLoadsOnceAllxIsThere) {
  const std::string python = test::python_with_scipy();
  if (python.empty()) GTEST_SKIP() << "needs /usr/bin/python3 with numpy and scipy";
  const fs::path dir = test::scratch_dir("pubmed");
  for (const char* suffix : {"x", "y", "tx", "ty", "ally", "graph", "test.index"}) {
    const std::string file = std::string("ind.pubmed.") + suffix;
    fs::copy_file(planetoid_dir() / file, dir / file);
  }
  std::ofstream(dir / "write_allx.py") << kWriteAllx;
  std::string output;
  ASSERT_EQ(test::run_command(python + " " + (dir / "write_allx.py").string() + " " + dir.string(),
                              &output),
            0)
      << output;

  Graph g = read_planetoid(dir, "pubmed");
  EXPECT_EQ(g.num_nodes, 19717);
  EXPECT_EQ(g.num_features, 500);
  EXPECT_EQ(g.num_classes, 3);
  EXPECT_EQ(count_mask(g.train_mask), 60);
  EXPECT_EQ(count_mask(g.val_mask), 500);
  EXPECT_EQ(count_mask(g.test_mask), 1000);
  EXPECT_EQ(g.num_edges(), 2 * 44324 + 3);
  EXPECT_EQ(count_self_loops(g), 3);
  EXPECT_EQ(class_counts(g), (std::vector<int64_t>{4103, 7739, 7875}));
  // Synthetic allx rows.
  EXPECT_EQ(nonzero_columns(g, 100), (std::vector<int64_t>{100}));
  EXPECT_EQ(g.feature_row(100)[100], 0.375f);
  EXPECT_EQ(g.feature_row(18716)[216], 0.75f);
  // Line 0 of ind.pubmed.test.index is 18747; tx[0] has 65 TF-IDF values, from scipy.
  std::span<const float> row = g.feature_row(18747);
  EXPECT_EQ(nonzero_columns(g, 18747).size(), 65u);
  EXPECT_FLOAT_EQ(row[2], 0.0193437599f);
  EXPECT_FLOAT_EQ(row[7], 0.0144374371f);
  EXPECT_FLOAT_EQ(row[9], 0.0171864089f);
  EXPECT_FLOAT_EQ(row[22], 0.0122315874f);
  fs::remove_all(dir);
}

TEST(Planetoid, UnknownNameListsTheDatasets) {
  EXPECT_EQ(error_of(planetoid_dir(), "reddit"),
            "unknown Planetoid dataset 'reddit': expected cora, citeseer or pubmed");
}

TEST(Planetoid, MissingFileIsNamedWithItsPath) {
  const fs::path dir = test::scratch_dir("empty");
  std::string message = error_of(dir, "cora");
  EXPECT_EQ(message.rfind((dir / "ind.cora.x").string() + ": file not found", 0), 0u) << message;
  fs::remove_all(dir);
}

TEST(Planetoid, CorruptTestIndexIsRejected) {
  const fs::path dir = test::scratch_dir("corrupt");
  for (const char* suffix : {"x", "y", "tx", "ty", "allx", "ally", "graph"}) {
    const std::string file = std::string("ind.cora.") + suffix;
    fs::copy_file(planetoid_dir() / file, dir / file);
  }
  const std::string index = (dir / "ind.cora.test.index").string();
  std::ofstream(index) << "1708\n17x9\n";
  EXPECT_EQ(error_of(dir, "cora"), index + ": line 2 is not a node id");
  // Ids must start right after allx's 1708 rows: shift every real id by one.
  std::ifstream real(planetoid_dir() / "ind.cora.test.index");
  std::ofstream shifted(index, std::ios::trunc);
  for (int64_t id; real >> id;) shifted << id + 1 << "\n";
  shifted.close();
  EXPECT_EQ(error_of(dir, "cora"), index + ": test ids start at 1709, expected len(allx) = 1708");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace edgegnn::graph
