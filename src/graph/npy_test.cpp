#include "graph/npy.h"

#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "test_support/errors.h"

namespace edgegnn::graph {
namespace {

using test::error_of;

// A .npy file by hand: magic, version `major`.0, the header as given, data.
std::vector<uint8_t> npy_bytes(int major, const std::string& header,
                               const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  const size_t length_bytes = major == 1 ? 2 : 4;
  for (size_t i = 0; i < length_bytes; ++i) out.push_back((header.size() >> (8 * i)) & 0xff);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::string header_for(const std::string& descr, const std::string& shape) {
  return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }\n";
}

template <typename T>
std::vector<uint8_t> raw(const std::vector<T>& values) {
  std::vector<uint8_t> out(values.size() * sizeof(T));
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

NpyArray round_trip(const NpyArray& array) { return parse_npy(write_npy(array), "t.npy"); }

void expect_same(const NpyArray& a, const NpyArray& b) {
  EXPECT_EQ(a.dtype, b.dtype);
  EXPECT_EQ(a.item_bytes, b.item_bytes);
  EXPECT_EQ(a.shape, b.shape);
  EXPECT_EQ(a.fortran_order, b.fortran_order);
  EXPECT_EQ(a.data, b.data);
}

TEST(Npy, RoundTripsEveryDtype) {
  std::vector<float> f4 = {1.5f, -2.0f, 3.25f, 0.0f, 1e30f, -7.0f};
  std::vector<double> f8 = {1e-300, 2.5};
  std::vector<int8_t> i1 = {-128, 0, 127};
  std::vector<int32_t> i4 = {INT32_MIN, -1, INT32_MAX};
  std::vector<int64_t> i8 = {INT64_MIN, 0, INT64_MAX, 5};
  std::vector<uint8_t> u1 = {0, 200, 255};
  NpyArray b1 = make_npy<uint8_t>({4}, std::vector<uint8_t>{1, 0, 0, 1});
  b1.dtype = NpyDtype::kBool;
  NpyArray s3{NpyDtype::kBytes, /*item_bytes=*/3, /*shape=*/{}, false, {'c', 'o', 'o'}};
  for (const NpyArray& array :
       {make_npy<float>({2, 3}, f4), make_npy<double>({2}, f8), make_npy<int8_t>({3}, i1),
        make_npy<int32_t>({3, 1}, i4), make_npy<int64_t>({2, 2}, i8), make_npy<uint8_t>({3}, u1),
        b1, s3}) {
    SCOPED_TRACE(npy_descr(array.dtype, array.item_bytes));
    std::vector<uint8_t> bytes = write_npy(array);
    // numpy aligns the data on 64 bytes.
    EXPECT_EQ((bytes.size() - array.data.size()) % 64, 0u);
    expect_same(parse_npy(bytes, "t.npy"), array);
  }
  EXPECT_EQ(as_float32(make_npy<float>({2, 3}, f4), "t"), f4);
  EXPECT_EQ(as_int64(make_npy<int64_t>({2, 2}, i8), "t"), i8);
  EXPECT_EQ(as_byte_string(round_trip(s3), "t"), "coo");
}

TEST(Npy, WritesTheHeaderNumpyWrites) {
  std::vector<uint8_t> bytes = write_npy(make_npy<int64_t>({3}, std::vector<int64_t>{1, 2, 3}));
  ASSERT_EQ(bytes.size(), 128u + 24u);
  EXPECT_EQ(bytes[6], 1);  // version 1.0
  EXPECT_EQ(bytes[8] | (bytes[9] << 8), 118);
  std::string header(bytes.begin() + 10, bytes.begin() + 128);
  EXPECT_EQ(header, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }" +
                        std::string(60, ' ') + "\n");
}

TEST(Npy, FortranOrderIsConvertedToCOrder) {
  // [[1, 2, 3], [4, 5, 6]] stored column by column.
  NpyArray matrix = make_npy<float>({2, 3}, std::vector<float>{1, 4, 2, 5, 3, 6});
  matrix.fortran_order = true;
  NpyArray read = round_trip(matrix);
  EXPECT_TRUE(read.fortran_order);
  EXPECT_EQ(as_float32(read, "t"), (std::vector<float>{1, 2, 3, 4, 5, 6}));

  // A 2 x 3 x 4 array whose C-order element i holds i, laid out column-major:
  // element (a, b, c) sits at a + 2 * (b + 3 * c).
  std::vector<int32_t> storage(24);
  for (int32_t a = 0; a < 2; ++a)
    for (int32_t b = 0; b < 3; ++b)
      for (int32_t c = 0; c < 4; ++c) storage[a + 2 * (b + 3 * c)] = (a * 3 + b) * 4 + c;
  NpyArray cube = make_npy<int32_t>({2, 3, 4}, storage);
  cube.fortran_order = true;
  std::vector<int64_t> values = as_int64(round_trip(cube), "t");
  for (int64_t i = 0; i < 24; ++i) EXPECT_EQ(values[i], i);
}

TEST(Npy, ReadsVersion2And3Headers) {
  for (int major : {2, 3}) {
    NpyArray array =
        parse_npy(npy_bytes(major, header_for("<i4", "(2,)"), raw<int32_t>({7, -8})), "t.npy");
    EXPECT_EQ(as_int64(array, "t"), (std::vector<int64_t>{7, -8}));
  }
}

TEST(Npy, ReadsPython2LongsAndDoubleQuotes) {
  std::string header = "{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (1L, 2L)}";
  NpyArray array = parse_npy(npy_bytes(1, header, raw<double>({0.5, 2.0})), "t.npy");
  EXPECT_EQ(array.shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(as_float32(array, "t"), (std::vector<float>{0.5f, 2.0f}));
}

TEST(Npy, ZeroDimensionalArrayHasOneElementAndEmptyArrayNone) {
  NpyArray scalar = parse_npy(npy_bytes(1, header_for("<i8", "()"), raw<int64_t>({42})), "t");
  EXPECT_EQ(scalar.num_elements(), 1);
  EXPECT_EQ(as_int64(scalar, "t"), (std::vector<int64_t>{42}));
  NpyArray empty = parse_npy(npy_bytes(1, header_for("<f4", "(0, 5)"), {}), "t");
  EXPECT_EQ(empty.num_elements(), 0);
  EXPECT_TRUE(as_float32(empty, "t").empty());
}

TEST(Npy, ConvertersWidenAndCheckNarrowing) {
  EXPECT_EQ(as_float32(make_npy<double>({2}, std::vector<double>{0.25, -3.0}), "t"),
            (std::vector<float>{0.25f, -3.0f}));
  EXPECT_EQ(as_float32(make_npy<int64_t>({2}, std::vector<int64_t>{3, -4}), "t"),
            (std::vector<float>{3.0f, -4.0f}));
  EXPECT_EQ(as_int32_checked(make_npy<int64_t>({2}, std::vector<int64_t>{INT32_MAX, -5}), "t"),
            (std::vector<int32_t>{INT32_MAX, -5}));
  EXPECT_EQ(as_int64(make_npy<uint8_t>({2}, std::vector<uint8_t>{255, 1}), "t"),
            (std::vector<int64_t>{255, 1}));
  EXPECT_EQ(error_of([] {
              as_int32_checked(make_npy<int64_t>({3}, std::vector<int64_t>{1, 2, int64_t{1} << 31}),
                               "x.npy");
            }),
            "x.npy: value 2147483648 at element 2 does not fit in int32");
  EXPECT_EQ(error_of([] { as_int64(make_npy<float>({1}, std::vector<float>{1.0f}), "x.npy"); }),
            "x.npy: expected an integer array, got dtype '<f4'");
  EXPECT_EQ(error_of([] { as_byte_string(make_npy<int8_t>({1}, std::vector<int8_t>{1}), "x"); }),
            "x: expected a single byte string, got dtype '|i1' shape (1,)");
}

TEST(Npy, RejectsBadMagicAndVersion) {
  EXPECT_EQ(error_of([] {
              parse_npy({'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0}, "x.npy");
            }),
            "x.npy: not a .npy file (bad magic)");
  EXPECT_EQ(error_of([] {
              parse_npy({0x93, 'N', 'U'}, "x.npy");
            }),
            "x.npy: not a .npy file (bad magic)");
  EXPECT_EQ(error_of([] {
              parse_npy(npy_bytes(4, header_for("<f4", "()"), {0, 0, 0, 0}), "x");
            }),
            "x: unsupported npy format version 4.0");
}

TEST(Npy, RejectsTruncatedHeaderAndData) {
  std::vector<uint8_t> bytes = npy_bytes(1, header_for("<f4", "(3,)"), raw<float>({1, 2, 3}));
  std::vector<uint8_t> short_header(bytes.begin(), bytes.begin() + 30);
  EXPECT_EQ(error_of([&] { parse_npy(short_header, "x.npy"); }),
            "x.npy: truncated npy header: 58 bytes declared, 20 present");
  bytes.pop_back();
  EXPECT_EQ(error_of([&] { parse_npy(bytes, "x.npy"); }),
            "x.npy: truncated data: shape (3,) of '<f4' needs 12 bytes, file has 11");
  bytes.insert(bytes.end(), {0, 0});
  EXPECT_EQ(error_of([&] { parse_npy(bytes, "x.npy"); }),
            "x.npy: 13 bytes of data, but shape (3,) of '<f4' needs 12");
}

TEST(Npy, RejectsUnsupportedDtypes) {
  for (std::string descr : {">f4", "|O", "<U3", "<f2", "<u4", "|S0", "|S99999999", "<c8"}) {
    EXPECT_EQ(
        error_of([&] { parse_npy(npy_bytes(1, header_for(descr, "()"), {}), "r.npz/f.npy"); }),
        "r.npz/f.npy: unsupported dtype '" + descr +
            "' (supported: <f4 <f8 <i4 <i8 |i1 |u1 |b1 |S<n>)");
  }
  std::string structured = "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }";
  EXPECT_EQ(error_of([&] {
              parse_npy(npy_bytes(1, structured, {0, 0, 0, 0}), "x");
            }),
            "x: unsupported dtype: structured arrays are not supported");
}

TEST(Npy, RejectsShapesTheDataCannotHold) {
  // Overflowing int64 and merely absurd shapes both fail before any allocation.
  EXPECT_EQ(error_of([] {
              parse_npy(npy_bytes(1, header_for("<f4", "(4611686018427387904, 4)"), {}), "x");
            }),
            "x: shape (4611686018427387904, 4) of '<f4' is too large");
  EXPECT_EQ(error_of([] {
              parse_npy(npy_bytes(1, header_for("<f8", "(1000000000000,)"), {0, 0, 0, 0}), "x");
            }),
            "x: truncated data: shape (1000000000000,) of '<f8' needs 8000000000000 bytes, "
            "file has 4");
  EXPECT_EQ(error_of([] {
              parse_npy(npy_bytes(1, header_for("<i8", "(99999999999999999999,)"), {}), "x");
            }),
            "x: bad npy header: dimension too large");
}

TEST(Npy, RejectsMalformedHeaders) {
  struct Case {
    std::string header;
    std::string error;
  };
  const Case cases[] = {
      {"{'descr': '<f4', 'shape': (), }", "needs 'descr', 'fortran_order' and 'shape'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}",
       "unexpected or repeated key 'descr'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}",
       "unexpected or repeated key 'x'"},
      {"{'descr': '<f4, 'fortran_order': False, 'shape': ()}", "expected ',' or '}' at offset 17"},
      {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': ()}",
       "expected True or False at offset 34"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
       "expected a dimension (a non-negative integer) at offset 51"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': ()} x", "text after the closing '}'"},
      {"'descr': '<f4'", "expected '{' at offset 0"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1 2)}",
       "expected ',' or ')' at offset 53"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (", "expected a dimension"},
      {"{'descr': '<f4", "unterminated string"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.header);
    std::string error = error_of([&] { parse_npy(npy_bytes(1, c.header, {0, 0, 0, 0}), "x"); });
    EXPECT_EQ(error.rfind("x: ", 0), 0u) << error;
    EXPECT_NE(error.find(c.error), std::string::npos) << error;
  }
  std::string deep = "(" + std::string(65 * 2, ' ');
  for (int i = 0; i < 65; ++i) deep += "1, ";
  EXPECT_EQ(error_of([&] { parse_npy(npy_bytes(1, header_for("<f4", deep + ")"), {}), "x"); }),
            "x: bad npy header: more than 64 dimensions");
}

TEST(Npy, RejectsBoolBytesOtherThanZeroOrOne) {
  EXPECT_EQ(error_of([] {
              parse_npy(npy_bytes(1, header_for("|b1", "(3,)"), {1, 0, 2}), "x");
            }),
            "x: bool element 2 holds byte 2, expected 0 or 1");
}

TEST(Npy, WriteAndConvertRejectDataThatDoesNotMatchTheShape) {
  NpyArray array = make_npy<float>({2, 2}, std::vector<float>{1, 2, 3});
  EXPECT_EQ(error_of([&] { write_npy(array); }),
            "write_npy: 12 bytes of data do not match shape (2, 2) of '<f4'");
  EXPECT_EQ(error_of([&] { as_float32(array, "y"); }),
            "y: 12 bytes of data do not match shape (2, 2) of '<f4'");
  array.shape = {3};
  array.item_bytes = 1;  // wrong width for '<f4'
  EXPECT_EQ(error_of([&] { as_float32(array, "y"); }),
            "y: 12 bytes of data do not match shape (3,) of '<f4'");
}

}  // namespace
}  // namespace edgegnn::graph
