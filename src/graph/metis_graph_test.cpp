#include "graph/metis_graph.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
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

// Vertices 1..5 with edges 1-2, 1-3, 2-3, 3-4; vertex 5 has none. As nodes
// from 0, node v's neighbours are  0: {1, 2}  1: {0, 2}  2: {0, 1, 3}  3: {2}  4: {}.
const std::vector<std::vector<int>> kAdjacency = {{2, 3}, {1, 3}, {1, 2, 4}, {3}, {}};
const std::vector<int64_t> kRowptr = {0, 2, 4, 7, 8, 8};
const std::vector<int32_t> kCol = {1, 2, 0, 2, 0, 1, 3, 2};

// kAdjacency in METIS's format `fmt` (ncon vertex weights when it has them),
// with made-up sizes and weights, a comment before the header and one between
// vertex lines.
std::string five_vertices(const std::string& fmt, int ncon, const std::string& line_end = "\n") {
  const bool sizes = fmt.size() == 3 && fmt[0] == '1';
  const bool vertex_weights = fmt.size() >= 2 && fmt[fmt.size() - 2] == '1';
  const bool edge_weights = !fmt.empty() && fmt.back() == '1';
  std::string text = fmt::format("% five vertices{}5 4", line_end);
  if (!fmt.empty()) text += fmt::format(" {}", fmt);
  if (ncon > 0) text += fmt::format(" {}", ncon);
  text += line_end;
  for (size_t v = 0; v < kAdjacency.size(); ++v) {
    if (v == 2) text += fmt::format("% a comment between vertex lines{}", line_end);
    std::string line;
    if (sizes) line += " 7";
    for (int w = 0; vertex_weights && w < std::max(ncon, 1); ++w) line += fmt::format(" 1{}", w);
    for (int u : kAdjacency[v]) {
      line += fmt::format(" {}", u);
      if (edge_weights) line += " 3";
    }
    // Vertex 5 has no neighbours: a blank line, unless weights fill it.
    text += line + line_end;
  }
  return text;
}

TEST(MetisGraph, ParsesNeighbourListsWithCommentsAndBlankLines) {
  StructureEdges parsed = parse_metis_graph(five_vertices("", 0), "five.graph");
  EXPECT_EQ(parsed.num_nodes, 5);
  // One edge neighbour -> vertex per entry, in file order, ids from 0.
  EXPECT_EQ(parsed.edges.src, (std::vector<int32_t>{1, 2, 0, 2, 0, 1, 3, 2}));
  EXPECT_EQ(parsed.edges.dst, (std::vector<int32_t>{0, 0, 1, 1, 2, 2, 2, 3}));
}

TEST(MetisGraph, SkipsTheSizesAndWeightsItsFmtAnnounces) {
  const StructureEdges plain = parse_metis_graph(five_vertices("", 0), "five.graph");
  // (fmt, ncon): every digit combination, short and long, one or more weights.
  const std::vector<std::pair<std::string, int>> formats = {
      {"0", 0},  {"000", 0}, {"1", 0},   {"001", 0}, {"10", 0}, {"010", 3},
      {"11", 2}, {"100", 0}, {"101", 0}, {"110", 0}, {"111", 2}};
  for (const auto& [fmt, ncon] : formats) {
    SCOPED_TRACE(fmt + " " + std::to_string(ncon));
    StructureEdges parsed = parse_metis_graph(five_vertices(fmt, ncon), "five.graph");
    EXPECT_EQ(parsed.num_nodes, 5);
    EXPECT_EQ(parsed.edges.src, plain.edges.src);
    EXPECT_EQ(parsed.edges.dst, plain.edges.dst);
  }
}

TEST(MetisGraph, ReadsPlainOrGzipFilesIntoAnUndirectedCsr) {
  const fs::path dir = test::scratch_dir("five");
  write_text(dir / "five.graph", five_vertices("011", 2, "\r\n"));
  write_gzip(dir / "five.graph.gz", five_vertices("", 0));
  for (const char* name : {"five.graph", "five.graph.gz"}) {
    SCOPED_TRACE(name);
    Graph g = read_metis_graph(dir / name);
    EXPECT_EQ(g.name, "five");
    EXPECT_EQ(to_vector(g.rowptr), kRowptr);
    EXPECT_EQ(to_vector(g.col), kCol);
    EXPECT_EQ(g.num_features, kGeneratedFeatures);
    EXPECT_EQ(g.num_classes, 5);  // kGeneratedClasses, but no more than the nodes
  }
  // Duplicates and self-loops, listed at both ends as METIS would, are dropped.
  write_text(dir / "loops.graph", "3 4\n2 2 1\n1 1 3\n2 3\n");
  Graph g = read_metis_graph(dir / "loops.graph");
  EXPECT_EQ(to_vector(g.rowptr), (std::vector<int64_t>{0, 1, 3, 4}));
  EXPECT_EQ(to_vector(g.col), (std::vector<int32_t>{1, 0, 2, 1}));
}

TEST(MetisGraph, LoadsAsDatasetMetisWithTheFileAsRoot) {
  const fs::path path = test::scratch_dir("dataset") / "five.graph";
  write_text(path, five_vertices("", 0));
  Graph g = load_dataset("metis", path.string());
  EXPECT_EQ(to_vector(g.col), kCol);
}

TEST(MetisGraph, TakesLabelsFromAnNpyFileBeside) {
  const fs::path dir = test::scratch_dir("labels");
  write_text(dir / "five.graph", five_vertices("", 0));
  std::vector<uint8_t> bytes =
      write_npy(make_npy<int32_t>({5}, std::vector<int32_t>{0, 0, 1, 1, -1}));
  std::ofstream(dir / "five.labels.npy", std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  Graph g = read_metis_graph(dir / "five.graph");
  EXPECT_EQ(to_vector(g.labels), (std::vector<int32_t>{0, 0, 1, 1, -1}));
  EXPECT_EQ(g.num_classes, 2);
  EXPECT_EQ(count_mask(g.train_mask) + count_mask(g.val_mask) + count_mask(g.test_mask), 4);
}

TEST(MetisGraph, ErrorsNameTheLineAndWhatIsWrong) {
  auto parse_error = [](const std::string& text) {
    return error_of([&] { parse_metis_graph(text, "g.graph"); });
  };
  EXPECT_EQ(parse_error(""), "g.graph: no header line 'n m [fmt [ncon]]' (the file is empty)");
  EXPECT_EQ(parse_error("% only a comment\n\n"),
            "g.graph: no header line 'n m [fmt [ncon]]' (the file is empty)");
  EXPECT_EQ(parse_error("% header\nx 1\n"),
            "g.graph:2: bad header 'x 1': n must be an integer in [1, 2^31 - 1] (expected 'n m "
            "[fmt [ncon]]')");
  EXPECT_EQ(parse_error("0 0\n"),
            "g.graph:1: bad header '0 0': n must be an integer in [1, 2^31 - 1] (expected 'n m "
            "[fmt [ncon]]')");
  EXPECT_EQ(parse_error("2147483648 1\n"),
            "g.graph:1: bad header '2147483648 1': n must be an integer in [1, 2^31 - 1] "
            "(expected 'n m [fmt [ncon]]')");
  EXPECT_EQ(parse_error("3\n"),
            "g.graph:1: bad header '3': m must be a non-negative integer (expected 'n m [fmt "
            "[ncon]]')");
  EXPECT_EQ(parse_error("3 2 2\n"),
            "g.graph:1: bad header '3 2 2': fmt must be up to three 0/1 digits, e.g. 011");
  EXPECT_EQ(parse_error("3 2 1011\n"),
            "g.graph:1: bad header '3 2 1011': fmt must be up to three 0/1 digits, e.g. 011");
  EXPECT_EQ(parse_error("3 2 001 2\n"),
            "g.graph:1: bad header '3 2 001 2': ncon needs vertex weights in fmt (010 or 011)");
  EXPECT_EQ(parse_error("3 2 010 0\n"),
            "g.graph:1: bad header '3 2 010 0': ncon must be an integer in [1, 1024]");
  EXPECT_EQ(parse_error("3 2 010 1 5\n"),
            "g.graph:1: bad header '3 2 010 1 5': more than 4 fields (expected 'n m [fmt "
            "[ncon]]')");
  EXPECT_EQ(parse_error("3 1\n2\n1\n4\n"),
            "g.graph:4: vertex 3: neighbour '4' is not an id in [1, 3]");
  EXPECT_EQ(parse_error("3 1\n0\n"), "g.graph:2: vertex 1: neighbour '0' is not an id in [1, 3]");
  EXPECT_EQ(parse_error("3 1\n2\n-1\n"),
            "g.graph:3: vertex 2: neighbour '-1' is not an id in [1, 3]");
  EXPECT_EQ(parse_error("3 1\n2\n1\n"),
            "g.graph: 2 vertex lines, but the header's n = 3 (a vertex without neighbours still "
            "needs its blank line)");
  EXPECT_EQ(parse_error("2 1\n2\n% fine\n1\n\n\n1\n"),
            "g.graph:7: more vertex lines than the header's n = 2: '1'");
  EXPECT_EQ(parse_error("3 2\n2\n1\n\n"),
            "g.graph: 2 neighbour entries, but the header's m = 2 needs 2m = 4 (METIS counts an "
            "edge once and lists it at both ends)");
  EXPECT_EQ(parse_error("3 0\n\n\n\n"), "g.graph: no edges (the header's m is 0)");
  EXPECT_EQ(parse_error("2 1 001\n2 5\n1\n"),
            "g.graph:3: vertex 2: missing its edge weight (the header's fmt gives one)");
  EXPECT_EQ(parse_error("2 1 001\n2 x\n1 1\n"),
            "g.graph:2: vertex 1: edge weight 'x' is not a non-negative integer");
  EXPECT_EQ(parse_error("2 1 011 2\n5 2 1\n1 1\n"),
            "g.graph:2: vertex 1: missing its edge weight (the header's fmt gives one)");
  EXPECT_EQ(parse_error("2 1 010 2\n5\n"),
            "g.graph:2: vertex 1: missing its vertex weight (the header's fmt gives one)");

  const fs::path dir = test::scratch_dir("errors");
  EXPECT_EQ(error_of([&] { read_metis_graph(dir / "missing.graph"); }),
            (dir / "missing.graph").string() + ": file not found");
  // Vertex 1 lists 2, but 2 lists nobody (and 3 lists 1, but 1 not 3).
  write_text(dir / "one-sided.graph", "3 1\n2\n\n1\n");
  EXPECT_EQ(error_of([&] { read_metis_graph(dir / "one-sided.graph"); }),
            (dir / "one-sided.graph").string() +
                ": vertex 1 lists 2, but vertex 2 does not list 1 (an edge must be listed at both "
                "ends)");
}

TEST(MetisGraph, ChecksTheMemoryBudgetAgainstTheHeaderAndAsItReads) {
  const fs::path dir = test::scratch_dir("budget");
  LoadOptions options;
  options.memory_budget_bytes = 100000;
  // Per entry 12 bytes (held, then one CSR entry), per node 291: the
  // header's 10 nodes and 2 x 5000 entries need 122,910 bytes.
  write_text(dir / "dense.graph", "10 5000\n");
  EXPECT_EQ(error_of([&] { read_metis_graph(dir / "dense.graph", options); }),
            (dir / "dense.graph").string() +
                ": 10,000 neighbour entries (2m) in the header, on 10 nodes, need 120.0 KiB, over "
                "the memory budget of 97.7 KiB");
  // A header that claims less than the lines hold is caught as they come:
  // 8,285 entries over 2 nodes need more than 100,000 bytes.
  std::string text = "2 1\n";
  for (int i = 0; i < 10000; ++i) text += "2 ";
  text += "\n1\n";
  write_text(dir / "lying.graph", text);
  EXPECT_EQ(error_of([&] { read_metis_graph(dir / "lying.graph", options); }),
            (dir / "lying.graph").string() +
                ": 8,285 neighbour entries read so far, on 2 nodes, need 97.7 KiB, over the "
                "memory budget of 97.7 KiB");
}

// Cora's structure written as a METIS file reads back as Cora's CSR without
// its self-loops.
TEST(MetisGraph, ReadsCoraWrittenAsAMetisFile) {
  const fs::path planetoid = test::datasets_dir() / "planetoid";
  if (!fs::exists(planetoid / "ind.cora.graph")) GTEST_SKIP() << "needs " << planetoid;
  Graph cora = read_planetoid(planetoid, "cora");
  std::vector<int64_t> rowptr = {0};
  std::vector<int32_t> col;
  std::string lines;
  for (int64_t v = 0; v < cora.num_nodes; ++v) {
    for (int32_t u : cora.in_neighbors(v)) {
      if (u == v) continue;
      col.push_back(u);
      lines += fmt::format("{} ", u + 1);
    }
    rowptr.push_back(static_cast<int64_t>(col.size()));
    lines += "\n";
  }
  const fs::path path = test::scratch_dir("cora") / "cora.graph";
  write_text(path, fmt::format("% Cora\n{} {}\n", cora.num_nodes, col.size() / 2) + lines);
  Graph g = read_metis_graph(path);
  EXPECT_EQ(g.num_nodes, cora.num_nodes);
  EXPECT_EQ(to_vector(g.rowptr), rowptr);
  EXPECT_EQ(to_vector(g.col), col);
}

}  // namespace
}  // namespace edgegnn::graph
