#include "graph/pickle.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "test_support/datasets.h"

namespace edgegnn::graph::pickle {
namespace {

using namespace std::string_literals;

// Hex escapes run on over hex digits, so literals below are split with + before
// any byte that is one ("\x01"s + "b").

std::span<const uint8_t> span_of(const std::string& bytes) {
  return {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()};
}

// The message parse() (and, when it parses, `extract`) throws, or "" if none.
template <typename Extract>
std::string error_of(const std::string& bytes, Extract extract) {
  try {
    Tree tree = parse(span_of(bytes), "test");
    extract(tree.root());
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
std::string error_of(const std::string& bytes) {
  return error_of(bytes, [](const Value&) {});
}

std::vector<uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::filesystem::path planetoid_file(const std::string& name) {
  return test::datasets_dir() / "planetoid" / name;
}

// --- Pickle fragments laid out the way Python 2 numpy and scipy write them.

std::string le32(uint32_t v) {
  return {char(v & 0xff), char(v >> 8 & 0xff), char(v >> 16 & 0xff), char(v >> 24 & 0xff)};
}
std::string binstring(const std::string& s) { return "T"s + le32(s.size()) + s; }
template <typename T>
std::string raw(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}
std::string dtype(const std::string& code) {
  return "cnumpy\ndtype\nU\x02"s + code + "K\x00K\x01\x87R(K\x03U\x01<NNNJ"s + le32(-1) + "J" +
         le32(-1) + "K\x00tb"s;
}
// `shape` is the pickled shape tuple.
std::string ndarray(const std::string& shape, const std::string& code, const std::string& data) {
  return "cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01"s + "b\x87R(" +
         "K\x01"s + shape + dtype(code) + "\x89"s + binstring(data) + "tb";
}
std::string csr(uint8_t rows, uint8_t cols, const std::vector<int32_t>& indptr,
                const std::vector<int32_t>& indices, const std::vector<float>& data) {
  auto vector = [](size_t n) { return "K"s + char(n) + "\x85"; };
  return "\x80\x02"s + "cscipy.sparse.csr\ncsr_matrix\n)\x81}(U\x06_shapeK"s + char(rows) + "K" +
         char(cols) + "\x86U\x06indptr" + ndarray(vector(indptr.size()), "i4", raw(indptr)) +
         "U\x07indices" + ndarray(vector(indices.size()), "i4", raw(indices)) + "U\x04"s + "data" +
         ndarray(vector(data.size()), "f4", raw(data)) + "ub.";
}

// --- Each supported opcode.

TEST(PickleParse, ReadsConstantsAndIntegers) {
  // PROTO 2, MARK, NONE, BININT1 7, BININT2 0x1234, BININT -1, NEWTRUE, NEWFALSE, TUPLE, STOP.
  const std::string bytes = "\x80\x02(NK\x07M\x34\x12J"s + le32(-1) + "\x88\x89t.";
  Tree tree = parse(span_of(bytes), "test");
  const Value& t = tree.root();
  ASSERT_EQ(t.kind, Kind::kTuple);
  ASSERT_EQ(t.items.size(), 6u);
  EXPECT_EQ(t.items[0]->kind, Kind::kNone);
  EXPECT_EQ(t.items[1]->integer, 7);
  EXPECT_EQ(t.items[2]->integer, 0x1234);
  EXPECT_EQ(t.items[3]->integer, -1);
  EXPECT_EQ(t.items[4]->kind, Kind::kBool);
  EXPECT_EQ(t.items[4]->integer, 1);
  EXPECT_EQ(t.items[5]->integer, 0);
}

TEST(PickleParse, ReadsStringsAndSmallTuples) {
  // SHORT_BINSTRING, BINSTRING, EMPTY_TUPLE, TUPLE1, TUPLE2, TUPLE3.
  const std::string bytes = "\x80\x02U\x03"s + "abc" + binstring("xy") + ")\x86K\x05\x85\x87.";
  Tree tree = parse(span_of(bytes), "test");
  const Value& t = tree.root();
  ASSERT_EQ(t.items.size(), 3u);
  EXPECT_EQ(t.items[0]->str(), "abc");
  const Value& pair = *t.items[1];
  ASSERT_EQ(pair.items.size(), 2u);
  EXPECT_EQ(pair.items[0]->str(), "xy");
  EXPECT_TRUE(pair.items[1]->items.empty());
  EXPECT_EQ(t.items[2]->items[0]->integer, 5);
}

TEST(PickleParse, MemoSharesOneListThatKeepsGrowing) {
  // EMPTY_LIST, BINPUT 0, MARK 1 2 APPENDS, 3 APPEND, BINGET 0, TUPLE2: both
  // entries are the same list, appended to after it was memoised.
  const std::string bytes = "\x80\x02]q\x00(K\x01K\x02"s + "eK\x03"s + "ah\x00\x86."s;
  Tree tree = parse(span_of(bytes), "test");
  const Value& t = tree.root();
  ASSERT_EQ(t.items[0], t.items[1]);
  ASSERT_EQ(t.items[0]->items.size(), 3u);
  EXPECT_EQ(t.items[0]->items[2]->integer, 3);
}

TEST(PickleParse, LongBinputIsReadByBinget) {
  const std::string bytes = "\x80\x02K\x09r"s + le32(7) + "h\x07\x86.";
  Tree tree = parse(span_of(bytes), "test");
  EXPECT_EQ(tree.root().items[0], tree.root().items[1]);
}

TEST(PickleParse, DefaultDictOfListsBecomesIntListDict) {
  // defaultdict(list) filled by SETITEMS, as ind.<name>.graph is.
  const std::string bytes =
      "\x80\x02"s + "ccollections\ndefaultdict\nc__builtin__\nlist\n\x85R(K\x00](K\x01K\x02"s +
      "eK\x01]K\x00"s + "aK\x02]u."s;
  Tree tree = parse(span_of(bytes), "test");
  auto dict = to_int_list_dict(tree.root(), "test");
  EXPECT_EQ(dict, (std::map<int64_t, std::vector<int64_t>>{{0, {1, 2}}, {1, {0}}, {2, {}}}));
}

TEST(PickleParse, LaterKeyWinsInIntListDict) {
  const std::string bytes = "\x80\x02}(K\x01]K\x05"s + "aK\x01]K\x06"s + "au."s;
  Tree tree = parse(span_of(bytes), "test");
  EXPECT_EQ(to_int_list_dict(tree.root(), "test")[1], (std::vector<int64_t>{6}));
}

TEST(PickleParse, NumpyArrayIsRebuiltWithShapeAndValues) {
  const std::vector<int32_t> values = {1, -2, 3, 4, 5, 6};
  const std::string bytes = "\x80\x02"s + ndarray("K\x02K\x03\x86"s, "i4", raw(values)) + ".";
  Tree tree = parse(span_of(bytes), "test");
  Array<int32_t> a = to_int32_array(tree.root(), "test");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.values, values);
  EXPECT_EQ(error_of(bytes, [](const Value& v) { to_float32_array(v, "test"); }),
            "test: expected a numpy array of dtype f4, found i4");
}

TEST(PickleParse, CsrMatrixIsRebuiltFromItsDict) {
  const std::string bytes = csr(2, 4, {0, 1, 3}, {3, 0, 2}, {0.5f, 1.0f, 2.0f});
  Tree tree = parse(span_of(bytes), "test");
  CsrMatrix m = to_csr_matrix(tree.root(), "test");
  EXPECT_EQ(m.num_rows, 2);
  EXPECT_EQ(m.num_cols, 4);
  EXPECT_EQ(m.indptr, (std::vector<int64_t>{0, 1, 3}));
  EXPECT_EQ(m.indices, (std::vector<int32_t>{3, 0, 2}));
  EXPECT_EQ(m.data, (std::vector<float>{0.5f, 1.0f, 2.0f}));
}

TEST(PickleParse, CsrMatrixChecksIndptrAndColumns) {
  auto error = [](const std::string& bytes) {
    return error_of(bytes, [](const Value& v) { to_csr_matrix(v, "test"); });
  };
  EXPECT_EQ(error(csr(2, 4, {0, 1, 3}, {3, 0, 4}, {1, 1, 1})),
            "test: csr_matrix column 4 out of range [0, 4)");
  EXPECT_EQ(error(csr(2, 4, {0, 2, 1}, {0, 0, 0}, {1, 1, 1})),
            "test: csr_matrix.indptr runs from 0 to 1, expected 0 to 3");
  EXPECT_EQ(error(csr(2, 4, {0, 3, 3}, {0, 0}, {1, 1})),
            "test: csr_matrix.indptr runs from 0 to 3, expected 0 to 2");
  EXPECT_EQ(error(csr(3, 4, {0, 1, 1}, {0}, {1})),
            "test: csr_matrix.indptr has 3 entries for 3 rows");
  EXPECT_EQ(error(csr(3, 4, {0, 2, 1, 3}, {0, 0, 0}, {1, 1, 1})),
            "test: csr_matrix.indptr decreases at row 2");
}

TEST(PickleParse, RealCoraFilesParse) {
  std::vector<uint8_t> x_bytes = read_file(planetoid_file("ind.cora.x"));
  CsrMatrix x = to_csr_matrix(parse(x_bytes, "ind.cora.x").root(), "ind.cora.x");
  EXPECT_EQ(x.num_rows, 140);
  EXPECT_EQ(x.num_cols, 1433);
  EXPECT_EQ(x.indices.size(), 2647u);

  std::vector<uint8_t> y_bytes = read_file(planetoid_file("ind.cora.y"));
  Array<int32_t> y = to_int32_array(parse(y_bytes, "ind.cora.y").root(), "ind.cora.y");
  EXPECT_EQ(y.shape, (std::vector<int64_t>{140, 7}));
  int64_t ones = 0;
  for (int32_t v : y.values) ones += v;
  EXPECT_EQ(ones, 140);

  std::vector<uint8_t> graph_bytes = read_file(planetoid_file("ind.cora.graph"));
  auto graph = to_int_list_dict(parse(graph_bytes, "ind.cora.graph").root(), "ind.cora.graph");
  EXPECT_EQ(graph.size(), 2708u);
  EXPECT_EQ(graph[0], (std::vector<int64_t>{633, 1862, 2582}));
}

// --- Rejections. Every message starts with the source and stays on one line.

TEST(PickleReject, UnsupportedOpcode) {
  EXPECT_EQ(error_of("\x80\x02\x95"s), "test: unsupported pickle opcode 0x95 at byte 2");
  EXPECT_EQ(error_of("\x80\x02K\x01\x86."s), "test: pickle stack underflow at byte 4");
}

TEST(PickleReject, ForbiddenGlobal) {
  EXPECT_EQ(error_of("cos\nsystem\n(U\x02lstR."s), "test: unsupported class os.system at byte 0");
  EXPECT_EQ(error_of("cos\nsys\ttem\n."s), "test: unsupported class os.sys?tem at byte 0");
  EXPECT_EQ(error_of("c__builtin__\nlist\n)R."s), "test: cannot call __builtin__.list at byte 19");
  EXPECT_EQ(error_of("c" + std::string(100, 'a') + "\n"),
            "test: GLOBAL name longer than 64 bytes at byte 0");
}

TEST(PickleReject, UnsupportedProtocolAndDtype) {
  EXPECT_EQ(error_of("\x80\x03N."s), "test: unsupported pickle protocol 3 at byte 0, expected 2");
  std::string f8 = ndarray("K\x01\x85"s, "f8", std::string(8, '\0'));
  EXPECT_EQ(error_of(f8), "test: unsupported dtype 'f8' at byte 87");
}

TEST(PickleReject, EveryPrefixOfARealFileFailsCleanly) {
  for (const char* name : {"ind.cora.x", "ind.cora.y", "ind.cora.graph"}) {
    std::vector<uint8_t> bytes = read_file(planetoid_file(name));
    ASSERT_FALSE(bytes.empty()) << name;
    // Every prefix of the small files; ~400 spread over the graph's 60 kB.
    const size_t stride = bytes.size() > 30000 ? bytes.size() / 400 : 1;
    for (size_t length = 0; length < bytes.size(); length += stride) {
      try {
        parse(std::span(bytes).first(length), "prefix");
        ADD_FAILURE() << name << " prefix of " << length << " bytes parsed";
      } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("prefix: ", 0), 0u) << e.what();
      }
    }
  }
}

TEST(PickleReject, HugeDeclaredLengthsFailWithoutAllocating) {
  // BINSTRING of 2^31 - 1 bytes, and of 2^31 (negative as the int32 Python 2 reads).
  std::string padding(11, 'N');
  EXPECT_EQ(error_of("\x80\x02T"s + le32(0x7fffffff) + padding + "."),
            "test: truncated pickle: opcode 0x54 at byte 2 needs 2147483647 more bytes, 12 remain");
  EXPECT_EQ(error_of("\x80\x02T"s + le32(0x80000000) + padding + "."),
            "test: negative string length -2147483648 at byte 2");
  // An array whose shape claims 2^31 x 2^31 elements over 8 data bytes.
  std::string shape = "J"s + le32(0x7fffffff) + "J" + le32(0x7fffffff) + "\x86";
  EXPECT_EQ(error_of("\x80\x02"s + ndarray(shape, "i4", std::string(8, '\0')) + "."),
            "test: array shape does not match its 8 data bytes at byte 136");
}

TEST(PickleReject, StackAndMemoAreBounded) {
  EXPECT_EQ(error_of(std::string((1 << 20) + 1, '(')),
            "test: more than 1048576 open MARKs at byte 1048576");
  EXPECT_EQ(error_of(std::string((1 << 20) + 1, 'N')),
            "test: pickle stack exceeds 1048576 entries at byte 1048576");
  std::string memo = "N";
  for (uint32_t i = 0; i <= (1u << 20); ++i) memo += "r"s + le32(i);
  EXPECT_EQ(error_of(memo), "test: pickle memo exceeds 1048576 entries at byte 5242881");
}

TEST(PickleReject, MalformedStructure) {
  EXPECT_EQ(error_of("\x80\x02N"s), "test: truncated pickle: no STOP opcode in 3 bytes");
  EXPECT_EQ(error_of("NN."s), "test: pickle ends with 1 unused stack entries");
  EXPECT_EQ(error_of("N.N"s), "test: 1 bytes after the pickle's STOP at byte 1");
  EXPECT_EQ(error_of("NK\x01"s + "a."), "test: opcode 0x61 at byte 3 needs a list, found a None");
  EXPECT_EQ(error_of("}(K\x01u."s), "test: SETITEMS with an odd number of items at byte 4");
  EXPECT_EQ(error_of("h\x03."s), "test: BINGET of an unset memo entry at byte 0");
  EXPECT_EQ(error_of("NNb."s), "test: BUILD of a None at byte 2");
  EXPECT_EQ(error_of("t."s), "test: opcode 0x74 at byte 0 has no MARK");
  // A MARK hides the entries below it.
  EXPECT_EQ(error_of("N(b."s), "test: pickle stack underflow at byte 2");
}

TEST(PickleReject, SelfContainingListIsHarmless) {
  // l = []; l.append(l): the Tree owns the cycle, and the helpers do not recurse.
  const std::string bytes = "]q\x00h\x00"s + "a.";
  Tree tree = parse(span_of(bytes), "test");
  EXPECT_EQ(tree.root().items[0], &tree.root());
  const std::string dict = "}(K\x01]q\x00h\x00"s + "au.";
  EXPECT_EQ(error_of(dict, [](const Value& v) { to_int_list_dict(v, "test"); }),
            "test: list of key 1 holds a list, expected ints");
}

TEST(PickleReject, ListSharedBetweenKeys) {
  const std::string bytes = "}(K\x01]q\x00K\x02h\x00u."s;
  EXPECT_EQ(error_of(bytes, [](const Value& v) { to_int_list_dict(v, "test"); }),
            "test: the list of key 2 is shared with another key");
}

TEST(PickleReject, DeepNestingNeedsNoRecursion) {
  // A million nested 1-tuples: parsing and freeing stay flat.
  const std::string bytes = "N" + std::string(1'000'000, '\x85') + ".";
  Tree tree = parse(span_of(bytes), "test");
  EXPECT_EQ(tree.root().kind, Kind::kTuple);
}

}  // namespace
}  // namespace edgegnn::graph::pickle
