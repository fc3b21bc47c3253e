#include "graph/edge_list.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "core/random.h"
#include "graph/npy.h"
#include "graph/planetoid.h"
#include "test_support/datasets.h"
#include "test_support/errors.h"
#include "test_support/files.h"
#include "test_support/graphs.h"

namespace edgegnn::graph {
namespace {

namespace fs = std::filesystem;

using test::error_of;

using test::to_vector;

using test::write_gzip;
using test::write_text;

// Six nodes, as SNAP writes them plus what else a file may hold: a comment,
// a blank line, CRLF, tabs, further columns, 0-1 in both directions, 3-4
// twice and a self-loop on 2. Stored undirected, node v's neighbours are
//   0: {1, 5}  1: {0, 2}  2: {1}  3: {4}  4: {3, 5}  5: {0, 4}
const std::string kSixNodes =
    "# Directed graph: six.txt\n"
    "# FromNodeId\tToNodeId\n"
    "0\t1\n"
    "1 0\r\n"
    "\n"
    "  1   2  \n"
    "2 2\n"
    "3 4 0.5 1262304000\n"
    "   # an indented comment\n"
    "3\t4\r\n"
    "4 5\n"
    "5 0";  // no newline at the end

const std::vector<int64_t> kSixRowptr = {0, 2, 4, 5, 6, 8, 10};
const std::vector<int32_t> kSixCol = {1, 5, 0, 2, 1, 4, 3, 5, 0, 4};

// Fraction of edges whose ends share a label.
double edge_homophily(const Graph& g) {
  int64_t same = 0;
  for (int64_t v = 0; v < g.num_nodes; ++v)
    for (int32_t u : g.in_neighbors(v)) same += g.labels[u] == g.labels[v];
  return static_cast<double>(same) / g.num_edges();
}

TEST(EdgeList, ParsesPairsSkippingCommentsBlankLinesAndFurtherColumns) {
  StructureEdges parsed = parse_edge_list(kSixNodes, "six.txt");
  EXPECT_EQ(parsed.num_nodes, 6);
  EXPECT_EQ(parsed.edges.src, (std::vector<int32_t>{0, 1, 1, 2, 3, 3, 4, 5}));
  EXPECT_EQ(parsed.edges.dst, (std::vector<int32_t>{1, 0, 2, 2, 4, 4, 5, 0}));
}

TEST(EdgeList, StoresEveryEdgeBothWaysWithoutDuplicatesOrSelfLoops) {
  const fs::path path = test::scratch_dir("six") / "six.txt";
  write_text(path, kSixNodes);
  Graph g = read_edge_list(path);
  EXPECT_EQ(g.name, "six");
  EXPECT_EQ(g.num_nodes, 6);
  EXPECT_EQ(to_vector(g.rowptr), kSixRowptr);
  EXPECT_EQ(to_vector(g.col), kSixCol);
}

TEST(EdgeList, LoadsAsDatasetEdgelistWithTheFileAsRoot) {
  const fs::path path = test::scratch_dir("dataset") / "six.txt";
  write_text(path, kSixNodes);
  Graph g = load_dataset("edgelist", path.string());
  EXPECT_EQ(to_vector(g.col), kSixCol);
  EXPECT_EQ(error_of([] { load_dataset("edgelist", ""); }),
            "--root: dataset 'edgelist' needs --root (the path of an edge list file, plain or "
            ".gz)");
}

TEST(EdgeList, IdsAreUsedAsGivenSoUnlistedIdsAreIsolatedNodes) {
  StructureEdges parsed = parse_edge_list("7 3\n", "gaps.txt");
  EXPECT_EQ(parsed.num_nodes, 8);
  const fs::path path = test::scratch_dir("gaps") / "gaps.txt";
  write_text(path, "7 3\n");
  Graph g = read_edge_list(path);
  EXPECT_EQ(to_vector(g.rowptr), (std::vector<int64_t>{0, 0, 0, 0, 1, 1, 1, 1, 2}));
  EXPECT_EQ(to_vector(g.col), (std::vector<int32_t>{7, 3}));
}

TEST(EdgeList, ReadsGzipByItsMagicBytesWhateverTheName) {
  const fs::path dir = test::scratch_dir("gzip");
  write_gzip(dir / "six.txt.gz", kSixNodes);
  write_gzip(dir / "compressed.txt", kSixNodes);  // gzip without the suffix
  write_text(dir / "plain.txt.gz", kSixNodes);    // the suffix without gzip
  for (const char* name : {"six.txt.gz", "compressed.txt", "plain.txt.gz"}) {
    SCOPED_TRACE(name);
    Graph g = read_edge_list(dir / name);
    EXPECT_EQ(to_vector(g.rowptr), kSixRowptr);
    EXPECT_EQ(to_vector(g.col), kSixCol);
  }
  EXPECT_EQ(read_edge_list(dir / "six.txt.gz").name, "six");
}

TEST(EdgeList, ReadsLinesAcrossTheReadersPieces) {
  // More than one 1 MiB piece, so lines straddle pieces; gzip too.
  std::string text;
  const int64_t num_lines = 200000;
  for (int64_t i = 0; i < num_lines; ++i) text += fmt::format("{}\t{}\r\n", i, i + 1);
  ASSERT_GT(text.size(), size_t{2} << 20);
  const fs::path dir = test::scratch_dir("long");
  write_gzip(dir / "path.txt.gz", text);
  Graph g = read_edge_list(dir / "path.txt.gz");
  EXPECT_EQ(g.num_nodes, num_lines + 1);
  EXPECT_EQ(g.num_edges(), 2 * num_lines);
  EXPECT_EQ(to_vector(g.col).back(), num_lines - 1);
}

TEST(EdgeList, TakesFeaturesAndLabelsFromNpyFilesBeside) {
  const fs::path dir = test::scratch_dir("npy");
  write_gzip(dir / "six.txt.gz", kSixNodes);
  const std::vector<double> features = {0, 1, 10, 11, 20, 21, 30, 31, 40, 41, 50, 51};
  const std::vector<int64_t> labels = {2, -1, 0, 1, 2, 0};
  auto write_npy_file = [](const fs::path& path, const NpyArray& array) {
    std::vector<uint8_t> bytes = write_npy(array);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
  };
  write_npy_file(dir / "six.features.npy", make_npy<double>({6, 2}, features));
  write_npy_file(dir / "six.labels.npy", make_npy<int64_t>({6}, labels));
  Graph g = read_edge_list(dir / "six.txt.gz");
  EXPECT_EQ(g.num_features, 2);
  EXPECT_EQ(to_vector(g.features), std::vector<float>(features.begin(), features.end()));
  EXPECT_EQ(to_vector(g.labels), (std::vector<int32_t>{2, -1, 0, 1, 2, 0}));
  EXPECT_EQ(g.num_classes, 3);
  // 5 labelled nodes: 3 train, 1 val, 1 test; the unlabelled node in none.
  EXPECT_EQ(count_mask(g.train_mask), 3);
  EXPECT_EQ(count_mask(g.val_mask), 1);
  EXPECT_EQ(count_mask(g.test_mask), 1);
  EXPECT_EQ(g.train_mask[1] + g.val_mask[1] + g.test_mask[1], 0);

  // Labels alone: features are generated around the file's classes.
  fs::remove(dir / "six.features.npy");
  Graph generated = read_edge_list(dir / "six.txt.gz");
  EXPECT_EQ(generated.num_features, kGeneratedFeatures);
  EXPECT_EQ(to_vector(generated.labels), (std::vector<int32_t>{2, -1, 0, 1, 2, 0}));

  // Shapes that do not match the graph's 6 nodes.
  write_npy_file(dir / "six.labels.npy", make_npy<int64_t>({5}, std::span(labels).first(5)));
  EXPECT_EQ(error_of([&] { read_edge_list(dir / "six.txt.gz"); }),
            (dir / "six.labels.npy").string() +
                ": shape (5,), expected (6,): " + (dir / "six.txt.gz").string() + " has 6 nodes");
  fs::remove(dir / "six.labels.npy");
  write_npy_file(dir / "six.features.npy", make_npy<double>({3, 4}, features));
  EXPECT_EQ(error_of([&] { read_edge_list(dir / "six.txt.gz"); }),
            (dir / "six.features.npy").string() + ": shape (3, 4), expected (6, F): " +
                (dir / "six.txt.gz").string() + " has 6 nodes");
  write_npy_file(dir / "six.features.npy", make_npy<double>({12}, features));
  EXPECT_EQ(error_of([&] { read_edge_list(dir / "six.txt.gz"); }),
            (dir / "six.features.npy").string() + ": shape (12,), expected (num_nodes, F)");
}

// Ten communities of 40 nodes: dense inside (p = 0.25), sparse between
// (p = 0.004): a node has ~10 neighbours inside and ~1.4 outside.
std::string community_edge_list() {
  constexpr int kCommunities = 10, kSize = 40;
  KeyedRandom rng(/*seed=*/7);
  std::string text;
  for (int u = 0; u < kCommunities * kSize; ++u)
    for (int v = u + 1; v < kCommunities * kSize; ++v)
      if (rng.uniform() < (u / kSize == v / kSize ? 0.25 : 0.004))
        text += fmt::format("{} {}\n", u, v);
  return text;
}

TEST(EdgeList, GeneratesNodeDataSeededWhateverTheThreadCount) {
  const fs::path path = test::scratch_dir("generated") / "communities.txt";
  write_text(path, community_edge_list());
  auto read = [&](uint64_t seed, int num_threads) {
    LoadOptions options;
    options.seed = seed;
    options.num_threads = num_threads;
    return read_edge_list(path, options);
  };
  Graph a = read(/*seed=*/1, /*num_threads=*/1);
  Graph b = read(/*seed=*/1, /*num_threads=*/2);
  Graph other = read(/*seed=*/2, /*num_threads=*/2);
  EXPECT_EQ(a.num_classes, kGeneratedClasses);
  EXPECT_EQ(a.num_features, kGeneratedFeatures);
  EXPECT_EQ(to_vector(a.labels), to_vector(b.labels));
  EXPECT_EQ(to_vector(a.features), to_vector(b.features));
  EXPECT_EQ(to_vector(a.train_mask), to_vector(b.train_mask));
  EXPECT_NE(to_vector(a.labels), to_vector(other.labels));
  EXPECT_NE(to_vector(a.features), to_vector(other.features));
  EXPECT_NE(to_vector(a.train_mask), to_vector(other.train_mask));
  // Every node is labelled: 60 / 20 / 20 of the 400.
  EXPECT_EQ(count_mask(a.train_mask), 240);
  EXPECT_EQ(count_mask(a.val_mask), 80);
  EXPECT_EQ(count_mask(a.test_mask), 80);
  for (int64_t v = 0; v < a.num_nodes; ++v)
    EXPECT_EQ(a.train_mask[v] + a.val_mask[v] + a.test_mask[v], 1) << "node " << v;
}

TEST(EdgeList, GeneratedLabelsFollowTheStructure) {
  const fs::path path = test::scratch_dir("homophily") / "communities.txt";
  write_text(path, community_edge_list());
  for (uint64_t seed : {0, 1, 2}) {
    LoadOptions options;
    options.seed = seed;
    Graph g = read_edge_list(path, options);
    std::vector<int64_t> sizes(g.num_classes, 0);
    for (int32_t label : g.labels) ++sizes[label];
    // Random labels would give 1 / 10 of the edges within a class (measured:
    // 0.66 to 0.73; Cora's structure gives 0.79 to 0.82, its own labels 0.81).
    EXPECT_GT(edge_homophily(g), 0.5) << "seed " << seed;
    EXPECT_GE(std::count_if(sizes.begin(), sizes.end(), [](int64_t s) { return s > 0; }), 5)
        << "seed " << seed;
  }
}

TEST(EdgeList, ErrorsNameTheLineAndWhatIsWrong) {
  auto parse_error = [](const std::string& text) {
    return error_of([&] { parse_edge_list(text, "g.txt"); });
  };
  EXPECT_EQ(parse_error("0 1\n# comment\n2\n"), "g.txt:3: expected 'src dst', got '2'");
  EXPECT_EQ(parse_error("0 1\n1 -3\n"), "g.txt:2: negative node id -3");
  EXPECT_EQ(parse_error("0 1.5\n"), "g.txt:1: node id '1.5' is not a non-negative integer");
  EXPECT_EQ(parse_error("FromNodeId ToNodeId\n"),
            "g.txt:1: node id 'FromNodeId' is not a non-negative integer");
  EXPECT_EQ(parse_error("0 2147483647\n"),
            "g.txt:1: node id 2147483647 too large (ids must be below 2^31 - 1)");
  EXPECT_EQ(parse_error("99999999999999999999999999 1\n"),
            "g.txt:1: node id 99999999999999999999999999 too large (ids must be below 2^31 - 1)");
  EXPECT_EQ(parse_error("1 " + std::string(100, 'x') + "\n"),
            "g.txt:1: node id '" + std::string(40, 'x') + "...' is not a non-negative integer");
  // Bytes that are not printable show as '?'.
  EXPECT_EQ(parse_error("0 1\r\n\x01\x02 3\n"),
            "g.txt:2: node id '?\?' is not a non-negative integer");
  EXPECT_EQ(parse_error(""), "g.txt: no edges (expected lines 'src dst'; '#' starts a comment)");
  EXPECT_EQ(parse_error("# only\n\n# comments\n"),
            "g.txt: no edges (expected lines 'src dst'; '#' starts a comment)");
  // The largest id allowed: 2^31 - 2.
  EXPECT_EQ(parse_edge_list("2147483646 0", "g.txt").num_nodes, 2147483647);

  const fs::path dir = test::scratch_dir("errors");
  EXPECT_EQ(error_of([&] { read_edge_list(dir / "missing.txt"); }),
            (dir / "missing.txt").string() + ": file not found");
  EXPECT_EQ(error_of([&] { read_edge_list(dir); }), dir.string() + ": not a regular file");
  write_text(dir / "loops.txt", "0 0\n1 1\n");
  EXPECT_EQ(error_of([&] { read_edge_list(dir / "loops.txt"); }),
            (dir / "loops.txt").string() + ": no edges besides self-loops");
}

TEST(EdgeList, CorruptGzipIsAnError) {
  const fs::path dir = test::scratch_dir("corrupt");
  std::string text;
  for (int i = 0; i < 50000; ++i) text += fmt::format("{} {}\n", i, i + 1);
  write_gzip(dir / "good.txt.gz", text);
  std::ifstream in(dir / "good.txt.gz", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  write_text(dir / "truncated.txt.gz", bytes.substr(0, bytes.size() / 2));
  EXPECT_EQ(error_of([&] { read_edge_list(dir / "truncated.txt.gz"); }),
            (dir / "truncated.txt.gz").string() +
                ": corrupt gzip data: unexpected end of file (truncated?)");
  std::string flipped = bytes;
  for (size_t i = 20; i < 60; ++i) flipped[i] = static_cast<char>(~flipped[i]);
  write_text(dir / "flipped.txt.gz", flipped);
  const std::string flipped_error = error_of([&] { read_edge_list(dir / "flipped.txt.gz"); });
  EXPECT_TRUE(
      flipped_error.starts_with((dir / "flipped.txt.gz").string() + ": corrupt gzip data: "))
      << flipped_error;
  std::string bad_crc = bytes;
  bad_crc[bad_crc.size() - 8] ^= 1;  // the trailer's CRC-32
  write_text(dir / "crc.txt.gz", bad_crc);
  EXPECT_EQ(error_of([&] { read_edge_list(dir / "crc.txt.gz"); }),
            (dir / "crc.txt.gz").string() + ": corrupt gzip data: incorrect data check");
}

TEST(EdgeList, StopsAtTheMemoryBudgetAsItReads) {
  const fs::path path = test::scratch_dir("budget") / "path.txt";
  std::string text;
  for (int i = 0; i < 100; ++i) text += fmt::format("{} {}\n", i, i + 1);
  write_text(path, text);
  LoadOptions options;
  // Per edge 16 bytes; per node 291 (CSR 24, 64 float32 features 256,
  // labels and masks 7, the generator's permutation 4): the third edge, over
  // 4 nodes, needs 3 * 16 + 4 * 291 = 1212 bytes.
  options.memory_budget_bytes = 1000;
  EXPECT_EQ(
      error_of([&] { read_edge_list(path, options); }),
      path.string() +
          ": 3 edges read so far, on 4 nodes, need 1.2 KiB, over the memory budget of 1000 B");
  // Thousands are grouped: 62,464 edges over 2 nodes need just over 10^6 bytes.
  std::string repeated;
  for (int i = 0; i < 70000; ++i) repeated += "0 1\n";
  write_text(path, repeated);
  options.memory_budget_bytes = 1000000;
  EXPECT_EQ(error_of([&] { read_edge_list(path, options); }),
            path.string() +
                ": 62,464 edges read so far, on 2 nodes, need 976.6 KiB, over the memory budget "
                "of 976.6 KiB");
  // One large id needs more than any edge: its node's row of every array.
  write_text(path, "5 2000000000\n0 1\n");
  EXPECT_EQ(error_of([&] { read_edge_list(path, options); }),
            path.string() +
                ": 1 edge read so far, on 2,000,000,001 nodes, need 542.0 GiB, over the memory "
                "budget of 976.6 KiB");
  write_text(path, repeated);
  options.memory_budget_bytes = 0;  // what the machine has: plenty
  EXPECT_EQ(read_edge_list(path, options).num_edges(), 2);
}

// Cora's structure written as an edge list (each undirected edge once, as
// SNAP's ungraph files) reads back as Cora's CSR without its self-loops.
TEST(EdgeList, ReadsCoraWrittenAsAnEdgeList) {
  const fs::path planetoid = test::datasets_dir() / "planetoid";
  if (!fs::exists(planetoid / "ind.cora.graph")) GTEST_SKIP() << "needs " << planetoid;
  Graph cora = read_planetoid(planetoid, "cora");
  std::vector<int64_t> rowptr = {0};
  std::vector<int32_t> col;
  std::string text = "# Cora, undirected\n";
  for (int64_t v = 0; v < cora.num_nodes; ++v) {
    for (int32_t u : cora.in_neighbors(v)) {
      if (u == v) continue;
      col.push_back(u);
      if (u < v) text += fmt::format("{}\t{}\n", u, v);
    }
    rowptr.push_back(static_cast<int64_t>(col.size()));
  }
  // Cora has none: its 10,556 directed edges, as in PyG.
  EXPECT_EQ(col.size(), 10556);
  const fs::path path = test::scratch_dir("cora") / "cora.txt.gz";
  write_gzip(path, text);
  Graph g = read_edge_list(path);
  EXPECT_EQ(g.num_nodes, cora.num_nodes);
  EXPECT_EQ(to_vector(g.rowptr), rowptr);
  EXPECT_EQ(to_vector(g.col), col);
}

}  // namespace
}  // namespace edgegnn::graph
