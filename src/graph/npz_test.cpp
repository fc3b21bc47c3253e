#include "graph/npz.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "core/error.h"
#include "test_support/datasets.h"
#include "test_support/errors.h"

namespace edgegnn::graph {
namespace {

namespace fs = std::filesystem;

using test::error_of;

std::vector<uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

// Runs `script` with Debian's python3 (numpy + scipy) and `dir` as argv[1].
NpyArray byte_string(const std::string& text) {
  return NpyArray{NpyDtype::kBytes, static_cast<int64_t>(text.size()), /*shape=*/{}, false,
                  std::vector<uint8_t>(text.begin(), text.end())};
}

std::vector<int32_t> arange_i32(int32_t n) {
  std::vector<int32_t> values(n);
  for (int32_t i = 0; i < n; ++i) values[i] = i;
  return values;
}

// The arrays every round-trip test writes and expects back.
struct Sample {
  std::vector<float> matrix = {1.5f, -2.0f, 3.0f, 4.0f, 5.0f, 6.25f};  // 2 x 3
  std::vector<int64_t> ids = {0, -1, INT64_MAX, 7, 8};
  std::vector<uint8_t> flags = {1, 0, 1};
};

void write_sample(const fs::path& path, NpzCompression compression) {
  Sample s;
  NpzWriter writer(path, compression);
  writer.add("matrix", make_npy<float>({2, 3}, s.matrix));
  writer.add("ids", make_npy<int64_t>({5}, s.ids));
  NpyArray flags = make_npy<uint8_t>({3}, s.flags);
  flags.dtype = NpyDtype::kBool;
  writer.add("flags", flags);
  writer.add("format", byte_string("coo"));
  writer.finish();
}

TEST(Npz, RoundTripsStoredAndDeflatedArchives) {
  fs::path dir = test::scratch_dir("npz");
  for (NpzCompression compression : {NpzCompression::kStored, NpzCompression::kDeflated}) {
    fs::path path = dir / "sample.npz";
    write_sample(path, compression);
    EXPECT_FALSE(fs::exists(dir / "sample.npz.tmp"));
    NpzReader npz(path);
    Sample s;
    EXPECT_EQ(npz.names(), (std::vector<std::string>{"matrix", "ids", "flags", "format"}));
    EXPECT_TRUE(npz.contains("ids"));
    EXPECT_FALSE(npz.contains("ids.npy"));
    NpyArray matrix = npz.read("matrix");
    EXPECT_EQ(matrix.shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(as_float32(matrix, "m"), s.matrix);
    EXPECT_EQ(as_int64(npz.read("ids"), "i"), s.ids);
    EXPECT_EQ(npz.read("flags").dtype, NpyDtype::kBool);
    EXPECT_EQ(as_int64(npz.read("flags"), "f"), (std::vector<int64_t>{1, 0, 1}));
    EXPECT_EQ(as_byte_string(npz.read("format"), "f"), "coo");
  }
}

TEST(Npz, WriterReplacesAnExistingFile) {
  fs::path path = test::scratch_dir("npz") / "a.npz";
  write_bytes(path, {'o', 'l', 'd'});
  NpzWriter writer(path);
  writer.add("x", make_npy<int32_t>({2}, std::vector<int32_t>{1, 2}));
  writer.finish();
  EXPECT_EQ(NpzReader(path).names(), (std::vector<std::string>{"x"}));
}

TEST(Npz, WriterRejectsRepeatedAndMismatchedArrays) {
  fs::path path = test::scratch_dir("npz") / "a.npz";
  NpzWriter writer(path);
  writer.add("x", make_npy<int32_t>({1}, std::vector<int32_t>{1}));
  EXPECT_EQ(error_of([&] { writer.add("x", make_npy<int32_t>({1}, std::vector<int32_t>{1})); }),
            path.string() + ": array 'x' added twice");
  EXPECT_THROW(writer.add("y", make_npy<int32_t>({2}, std::vector<int32_t>{1})), Error);
  EXPECT_EQ(error_of([&] { NpzWriter(path).finish(); }), path.string() + ": no arrays to write");
}

TEST(Npz, MissingArrayErrorListsTheArraysPresent) {
  fs::path path = test::scratch_dir("npz") / "reddit_data.npz";
  NpzWriter writer(path);
  writer.add("label", make_npy<int64_t>({1}, std::vector<int64_t>{0}));
  writer.add("node_types", make_npy<int64_t>({1}, std::vector<int64_t>{1}));
  writer.finish();
  NpzReader npz(path);
  EXPECT_EQ(error_of([&] { npz.read("feature"); }),
            path.string() + ": no array 'feature' (has: label, node_types)");
}

TEST(Npz, RejectsMissingNonZipAndTruncatedFiles) {
  fs::path dir = test::scratch_dir("npz");
  EXPECT_EQ(error_of([&] { NpzReader(dir / "absent.npz"); }),
            (dir / "absent.npz").string() + ": cannot open: No such file or directory");

  write_bytes(dir / "text.npz", std::vector<uint8_t>(100, 'x'));
  EXPECT_EQ(error_of([&] { NpzReader(dir / "text.npz"); }),
            (dir / "text.npz").string() + ": not a readable .npz archive: Not a zip archive");

  write_sample(dir / "whole.npz", NpzCompression::kDeflated);
  std::vector<uint8_t> bytes = read_bytes(dir / "whole.npz");
  bytes.resize(bytes.size() / 2);
  write_bytes(dir / "half.npz", bytes);
  std::string error = error_of([&] { NpzReader(dir / "half.npz"); });
  EXPECT_EQ(error.rfind((dir / "half.npz").string() + ": not a readable .npz archive", 0), 0u)
      << error;
}

// One deflated member of 64 KiB of int32s, its compressed bytes found by
// locating the local header (30 bytes plus name and extra field).
struct DeflatedFixture {
  fs::path path;
  std::vector<uint8_t> bytes;
  size_t data_offset = 0;
  size_t data_bytes = 0;
};

DeflatedFixture write_deflated(const fs::path& dir) {
  DeflatedFixture f;
  f.path = dir / "big.npz";
  NpzWriter writer(f.path, NpzCompression::kDeflated);
  writer.add("values", make_npy<int32_t>({16384}, arange_i32(16384)));
  writer.finish();
  f.bytes = read_bytes(f.path);
  auto u16 = [&](size_t at) { return size_t{f.bytes[at]} | size_t{f.bytes[at + 1]} << 8; };
  auto u32 = [&](size_t at) { return u16(at) | u16(at + 2) << 16; };
  EXPECT_EQ(u32(0), 0x04034b50u);  // local file header
  f.data_offset = 30 + u16(26) + u16(28);
  f.data_bytes = u32(18);
  return f;
}

// Sets the uncompressed size recorded in the local and central headers.
void forge_size(std::vector<uint8_t>& bytes, uint32_t size) {
  for (size_t at = 0; at + 46 <= bytes.size(); ++at) {
    size_t field = 0;
    if (std::memcmp(&bytes[at], "PK\x03\x04", 4) == 0) field = at + 22;
    if (std::memcmp(&bytes[at], "PK\x01\x02", 4) == 0) field = at + 24;
    if (field != 0) std::memcpy(&bytes[field], &size, 4);
  }
}

TEST(Npz, RejectsCorruptDeflatedData) {
  DeflatedFixture f = write_deflated(test::scratch_dir("npz"));
  std::vector<uint8_t> bytes = f.bytes;
  for (size_t i = f.data_offset + 10; i < f.data_offset + 40; ++i) bytes[i] ^= 0x5a;
  write_bytes(f.path, bytes);
  NpzReader npz(f.path);
  std::string error = error_of([&] { npz.read("values"); });
  EXPECT_EQ(error.rfind(f.path.string() + "/values.npy: ", 0), 0u) << error;
}

TEST(Npz, RejectsMembersWhoseStreamDisagreesWithTheirDeclaredSize) {
  DeflatedFixture f = write_deflated(test::scratch_dir("npz"));
  const std::string source = f.path.string() + "/values.npy";
  const uint32_t real = 128 + 16384 * 4;
  auto read_with_size = [&](uint32_t declared) {
    std::vector<uint8_t> bytes = f.bytes;
    forge_size(bytes, declared);
    write_bytes(f.path, bytes);
    return error_of([&] { NpzReader(f.path).read("values"); });
  };
  EXPECT_EQ(read_with_size(real - 1),
            fmt::format("{}: member holds more than its declared {} bytes", source, real - 1));
  EXPECT_EQ(read_with_size(real + 1),
            fmt::format("{}: truncated: {} of {} declared bytes", source, real, real + 1));
  // A size no deflate stream of this length can produce fails before reading.
  std::vector<uint8_t> bytes = f.bytes;
  const uint32_t bomb = static_cast<uint32_t>(f.data_bytes * 1032 + 1);
  forge_size(bytes, bomb);
  write_bytes(f.path, bytes);
  NpzReader npz(f.path);
  EXPECT_EQ(error_of([&] { npz.read("values"); }),
            fmt::format("{}: declared size {} bytes cannot come from {} compressed bytes", source,
                        bomb, f.data_bytes));
}

TEST(Npz, ReadsWhatNumpyAndScipyWrite) {
  const std::string python = test::python_with_scipy();
  if (python.empty()) GTEST_SKIP() << "python3-numpy/scipy absent";
  fs::path dir = test::scratch_dir("npz");
  test::run_python_script(python, dir, R"(
import sys, numpy as np, scipy.sparse as sp
d = sys.argv[1]
arrays = dict(
    f4=np.arange(6, dtype='<f4').reshape(2, 3) / 4,
    f8_fortran=np.asfortranarray(np.arange(6, dtype='<f8').reshape(2, 3)),
    i8_fortran_3d=np.asfortranarray(np.arange(24, dtype='<i8').reshape(2, 3, 4)),
    i4=np.array([-5, 0, 2**31 - 1], dtype='<i4'),
    i1=np.array([-128, 127], dtype='i1'),
    u1=np.array([0, 255], dtype='u1'),
    b1=np.array([True, False, True]),
    s3=np.array(b'coo'))
np.savez(d + '/stored.npz', **arrays)
np.savez_compressed(d + '/deflated.npz', **arrays)
m = sp.coo_matrix((np.ones(3, dtype='f4'), ([0, 1, 2], [1, 2, 0])), shape=(3, 3))
sp.save_npz(d + '/coo.npz', m, compressed=False)
sp.save_npz(d + '/csr.npz', m.tocsr())
)");
  for (std::string file : {"stored.npz", "deflated.npz"}) {
    SCOPED_TRACE(file);
    NpzReader npz(dir / file);
    EXPECT_EQ(as_float32(npz.read("f4"), "f4"),
              (std::vector<float>{0, 0.25f, 0.5f, 0.75f, 1, 1.25f}));
    NpyArray fortran = npz.read("f8_fortran");
    EXPECT_TRUE(fortran.fortran_order);
    EXPECT_EQ(as_float32(fortran, "f8"), (std::vector<float>{0, 1, 2, 3, 4, 5}));
    std::vector<int64_t> cube = as_int64(npz.read("i8_fortran_3d"), "i8");
    for (int64_t i = 0; i < 24; ++i) EXPECT_EQ(cube[i], i);
    EXPECT_EQ(as_int32_checked(npz.read("i4"), "i4"), (std::vector<int32_t>{-5, 0, INT32_MAX}));
    EXPECT_EQ(as_int64(npz.read("i1"), "i1"), (std::vector<int64_t>{-128, 127}));
    EXPECT_EQ(as_int64(npz.read("u1"), "u1"), (std::vector<int64_t>{0, 255}));
    EXPECT_EQ(as_int64(npz.read("b1"), "b1"), (std::vector<int64_t>{1, 0, 1}));
    EXPECT_EQ(as_byte_string(npz.read("s3"), "s3"), "coo");
  }
  NpzReader coo(dir / "coo.npz");
  EXPECT_EQ(as_byte_string(coo.read("format"), "format"), "coo");
  EXPECT_EQ(as_int64(coo.read("shape"), "shape"), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(as_int64(coo.read("row"), "row"), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(as_int64(coo.read("col"), "col"), (std::vector<int64_t>{1, 2, 0}));
  NpzReader csr(dir / "csr.npz");
  EXPECT_EQ(as_byte_string(csr.read("format"), "format"), "csr");
  EXPECT_EQ(as_int64(csr.read("indptr"), "indptr"), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(as_int64(csr.read("indices"), "indices"), (std::vector<int64_t>{1, 2, 0}));
  EXPECT_EQ(as_float32(csr.read("data"), "data"), (std::vector<float>{1, 1, 1}));
}

TEST(Npz, NumpyReadsWhatWeWrite) {
  const std::string python = test::python_with_scipy();
  if (python.empty()) GTEST_SKIP() << "python3-numpy/scipy absent";
  fs::path dir = test::scratch_dir("npz");
  write_sample(dir / "stored.npz", NpzCompression::kStored);
  write_sample(dir / "deflated.npz", NpzCompression::kDeflated);
  NpzWriter writer(dir / "fortran.npz");
  NpyArray fortran = make_npy<double>({2, 3}, std::vector<double>{1, 4, 2, 5, 3, 6});
  fortran.fortran_order = true;
  writer.add("m", fortran);
  NpyArray scalar = make_npy<int64_t>({}, std::vector<int64_t>{42});
  writer.add("scalar", scalar);
  writer.add("empty", make_npy<float>({0, 3}, std::vector<float>{}));
  writer.finish();
  test::run_python_script(python, dir, R"(
import sys, numpy as np
d = sys.argv[1]
for name in ('stored', 'deflated'):
    z = np.load(d + '/' + name + '.npz')
    assert list(z.files) == ['matrix', 'ids', 'flags', 'format'], z.files
    assert z['matrix'].dtype == np.float32 and z['matrix'].shape == (2, 3)
    assert (z['matrix'] == np.array([[1.5, -2, 3], [4, 5, 6.25]], dtype='f4')).all()
    assert z['ids'].dtype == np.int64
    assert z['ids'].tolist() == [0, -1, 2**63 - 1, 7, 8]
    assert z['flags'].dtype == np.bool_ and z['flags'].tolist() == [True, False, True]
    assert z['format'].dtype == np.dtype('S3') and z['format'].shape == ()
    assert z['format'].item() == b'coo'
z = np.load(d + '/fortran.npz')
assert z['m'].flags.f_contiguous
assert (z['m'] == np.array([[1, 2, 3], [4, 5, 6]])).all()
assert z['scalar'].shape == () and z['scalar'].item() == 42
assert z['empty'].shape == (0, 3) and z['empty'].dtype == np.float32
)");
}

}  // namespace
}  // namespace edgegnn::graph
