#include "graph/npy.h"

#include <bit>
#include <climits>
#include <cstring>
#include <string_view>

#include "core/error.h"

namespace edgegnn::graph {
namespace {

// Elements are copied as host integers and floats: .npy files we accept are
// little-endian, and so are the hosts we target (x86-64, AArch64).
static_assert(std::endian::native == std::endian::little,
              "npy reader assumes a little-endian host");

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicBytes = 6;
// numpy 2 allows 64 dimensions (NPY_MAXDIMS); more can only be a corrupt header.
constexpr size_t kMaxDims = 64;
// Longest '|S<n>' we accept: the strings we read are short tags like b'coo'.
constexpr int64_t kMaxStringBytes = 1 << 20;

// Bytes needed by `shape` elements of `item_bytes` each; false on overflow.
bool shape_bytes(const std::vector<int64_t>& shape, int64_t item_bytes, int64_t* bytes) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0 || __builtin_mul_overflow(count, dim, &count)) return false;
  }
  return !__builtin_mul_overflow(count, item_bytes, bytes);
}

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// Parses the Python dict literal numpy writes, e.g.
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// and nothing more general: exactly these three keys, string/bool/int-tuple
// values. Python 2 writers may add an 'L' to shape integers.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  Header parse() {
    Header header;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{', "'{'");
    while (!consume('}')) {
      std::string key = parse_string();
      expect(':', "':'");
      if (key == "descr" && !seen_descr) {
        skip_space();
        check(pos_ >= text_.size() || text_[pos_] != '[',
              "{}: unsupported dtype: structured arrays are not supported", source_);
        header.descr = parse_string();
        seen_descr = true;
      } else if (key == "fortran_order" && !seen_order) {
        header.fortran_order = parse_bool();
        seen_order = true;
      } else if (key == "shape" && !seen_shape) {
        header.shape = parse_shape();
        seen_shape = true;
      } else {
        fail("{}: bad npy header: unexpected or repeated key '{}'", source_, key);
      }
      if (!consume(',')) {
        expect('}', "',' or '}'");
        break;
      }
    }
    skip_space();
    check(pos_ == text_.size(), "{}: bad npy header: text after the closing '}}'", source_);
    check(seen_descr && seen_order && seen_shape,
          "{}: bad npy header: needs 'descr', 'fortran_order' and 'shape'", source_);
    return header;
  }

 private:
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\t' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool consume(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c, const char* what) {
    check(consume(c), "{}: bad npy header: expected {} at offset {}", source_, what, pos_);
  }
  std::string parse_string() {
    skip_space();
    check(pos_ < text_.size() && (text_[pos_] == '\'' || text_[pos_] == '"'),
          "{}: bad npy header: expected a string at offset {}", source_, pos_);
    char quote = text_[pos_++];
    size_t end = text_.find(quote, pos_);
    check(end != std::string_view::npos, "{}: bad npy header: unterminated string", source_);
    std::string value(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return value;
  }
  bool parse_bool() {
    skip_space();
    for (std::string_view word : {"True", "False"}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return word == "True";
      }
    }
    fail("{}: bad npy header: expected True or False at offset {}", source_, pos_);
  }
  std::vector<int64_t> parse_shape() {
    std::vector<int64_t> shape;
    expect('(', "'('");
    while (!consume(')')) {
      skip_space();
      check(pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9',
            "{}: bad npy header: expected a dimension (a non-negative integer) at offset {}",
            source_, pos_);
      int64_t dim = 0;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        check(!__builtin_mul_overflow(dim, 10, &dim) &&
                  !__builtin_add_overflow(dim, text_[pos_] - '0', &dim),
              "{}: bad npy header: dimension too large", source_);
        ++pos_;
      }
      if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;
      check(shape.size() < kMaxDims, "{}: bad npy header: more than {} dimensions", source_,
            kMaxDims);
      shape.push_back(dim);
      if (!consume(',')) {
        expect(')', "',' or ')'");
        break;
      }
    }
    return shape;
  }

  std::string_view text_;
  const std::string& source_;
  size_t pos_ = 0;
};

// Bytes per element of the fixed-width dtypes (kBytes has its own width).
int64_t item_bytes_of(NpyDtype dtype) {
  switch (dtype) {
    case NpyDtype::kFloat64:
    case NpyDtype::kInt64:
      return 8;
    case NpyDtype::kFloat32:
    case NpyDtype::kInt32:
      return 4;
    case NpyDtype::kInt8:
    case NpyDtype::kUint8:
    case NpyDtype::kBool:
    case NpyDtype::kBytes:
      return 1;
  }
  return 1;
}

void set_dtype(const std::string& descr, NpyArray& array, const std::string& source) {
  struct Known {
    std::string_view descr;
    NpyDtype dtype;
  };
  // Single-byte types have no byte order; numpy writes '|', some writers '<'.
  static constexpr Known kKnown[] = {
      {"<f4", NpyDtype::kFloat32}, {"<f8", NpyDtype::kFloat64}, {"<i4", NpyDtype::kInt32},
      {"<i8", NpyDtype::kInt64},   {"|i1", NpyDtype::kInt8},    {"<i1", NpyDtype::kInt8},
      {"|u1", NpyDtype::kUint8},   {"<u1", NpyDtype::kUint8},   {"|b1", NpyDtype::kBool},
      {"<b1", NpyDtype::kBool},
  };
  for (const Known& known : kKnown) {
    if (descr == known.descr) {
      array.dtype = known.dtype;
      array.item_bytes = item_bytes_of(known.dtype);
      return;
    }
  }
  if (descr.size() > 2 && descr.size() <= 9 && descr.compare(0, 2, "|S") == 0 &&
      descr.find_first_not_of("0123456789", 2) == std::string::npos) {
    int64_t width = std::stoll(descr.substr(2));
    if (width >= 1 && width <= kMaxStringBytes) {
      array.dtype = NpyDtype::kBytes;
      array.item_bytes = width;
      return;
    }
  }
  fail("{}: unsupported dtype '{}' (supported: <f4 <f8 <i4 <i8 |i1 |u1 |b1 |S<n>)", source, descr);
}

// Converters trust the array's bytes to match its shape; arrays built by hand
// rather than by parse_npy might not.
void check_size(const NpyArray& array, const std::string& source) {
  const bool item_ok = array.dtype == NpyDtype::kBytes
                           ? array.item_bytes >= 1 && array.item_bytes <= kMaxStringBytes
                           : array.item_bytes == item_bytes_of(array.dtype);
  int64_t needed = 0;
  check(array.shape.size() <= kMaxDims && item_ok &&
            shape_bytes(array.shape, array.item_bytes, &needed) &&
            static_cast<uint64_t>(needed) == array.data.size(),
        "{}: {} bytes of data do not match shape {} of '{}'", source, array.data.size(),
        npy_shape_string(array.shape), npy_descr(array.dtype, array.item_bytes));
}

template <typename T>
T load(const uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

// Calls fn(i, k) for every element: i is its position in C order, k its
// position in storage. A Fortran-order array is walked with the last index
// fastest, its storage offset following the column-major strides.
template <typename Fn>
void for_each_element(const NpyArray& array, Fn&& fn) {
  const int64_t n = array.num_elements();
  const size_t ndim = array.shape.size();
  if (!array.fortran_order || ndim < 2) {
    for (int64_t i = 0; i < n; ++i) fn(i, i);
    return;
  }
  std::vector<int64_t> stride(ndim), index(ndim, 0);
  stride[0] = 1;
  for (size_t d = 1; d < ndim; ++d) stride[d] = stride[d - 1] * array.shape[d - 1];
  int64_t offset = 0;
  for (int64_t i = 0; i < n; ++i) {
    fn(i, offset);
    for (size_t d = ndim; d-- > 0;) {
      offset += stride[d];
      if (++index[d] < array.shape[d]) break;
      offset -= stride[d] * array.shape[d];
      index[d] = 0;
    }
  }
}

template <typename Out, typename In, typename Check>
std::vector<Out> convert(const NpyArray& array, Check&& check_value) {
  std::vector<Out> out(array.num_elements());
  const uint8_t* base = array.data.data();
  for_each_element(array, [&](int64_t i, int64_t k) {
    In value = load<In>(base + k * static_cast<int64_t>(sizeof(In)));
    check_value(value, i);
    out[i] = static_cast<Out>(value);
  });
  return out;
}

// Converts any integer or bool dtype, and float dtypes when `allow_float`.
// check_value(value, i) sees each element before it is narrowed.
template <typename Out, typename Check>
std::vector<Out> convert_numeric(const NpyArray& array, const std::string& source, bool allow_float,
                                 const char* wanted, Check&& check_value) {
  check_size(array, source);
  switch (array.dtype) {
    case NpyDtype::kFloat32:
      if (allow_float) return convert<Out, float>(array, check_value);
      break;
    case NpyDtype::kFloat64:
      if (allow_float) return convert<Out, double>(array, check_value);
      break;
    case NpyDtype::kInt8:
      return convert<Out, int8_t>(array, check_value);
    case NpyDtype::kInt32:
      return convert<Out, int32_t>(array, check_value);
    case NpyDtype::kInt64:
      return convert<Out, int64_t>(array, check_value);
    case NpyDtype::kUint8:
    case NpyDtype::kBool:  // parse_npy checked that bool bytes are 0 or 1
      return convert<Out, uint8_t>(array, check_value);
    case NpyDtype::kBytes:
      break;
  }
  fail("{}: expected {} array, got dtype '{}'", source, wanted,
       npy_descr(array.dtype, array.item_bytes));
}

}  // namespace

int64_t NpyArray::num_elements() const {
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  return count;
}

std::string npy_shape_string(const std::vector<int64_t>& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  // Python spells a one-element tuple "(3,)"; numpy's header parser needs that.
  if (shape.size() == 1) out += ",";
  return out + ")";
}

std::string npy_descr(NpyDtype dtype, int64_t item_bytes) {
  switch (dtype) {
    case NpyDtype::kFloat32:
      return "<f4";
    case NpyDtype::kFloat64:
      return "<f8";
    case NpyDtype::kInt8:
      return "|i1";
    case NpyDtype::kInt32:
      return "<i4";
    case NpyDtype::kInt64:
      return "<i8";
    case NpyDtype::kUint8:
      return "|u1";
    case NpyDtype::kBool:
      return "|b1";
    case NpyDtype::kBytes:
      return "|S" + std::to_string(item_bytes);
  }
  return "?";
}

NpyArray parse_npy(std::vector<uint8_t> bytes, const std::string& source) {
  check(bytes.size() >= kMagicBytes + 4 && std::memcmp(bytes.data(), kMagic, kMagicBytes) == 0,
        "{}: not a .npy file (bad magic)", source);
  const uint8_t major = bytes[6], minor = bytes[7];
  check((major >= 1 && major <= 3) && minor == 0, "{}: unsupported npy format version {}.{}",
        source, major, minor);
  // Version 1.0 stores the header length in 2 bytes, 2.0 and 3.0 in 4; 3.0
  // only allows UTF-8 in the header, which our ASCII grammar never needs.
  size_t prefix = major == 1 ? 10 : 12;
  check(bytes.size() >= prefix, "{}: truncated npy header", source);
  uint64_t header_bytes =
      major == 1 ? load<uint16_t>(bytes.data() + 8) : load<uint32_t>(bytes.data() + 8);
  check(header_bytes <= bytes.size() - prefix,
        "{}: truncated npy header: {} bytes declared, {} present", source, header_bytes,
        bytes.size() - prefix);
  std::string_view text(reinterpret_cast<const char*>(bytes.data() + prefix), header_bytes);
  Header header = HeaderParser(text, source).parse();

  NpyArray array;
  set_dtype(header.descr, array, source);
  array.fortran_order = header.fortran_order;
  array.shape = std::move(header.shape);
  int64_t needed = 0;
  check(shape_bytes(array.shape, array.item_bytes, &needed), "{}: shape {} of '{}' is too large",
        source, npy_shape_string(array.shape), header.descr);
  const size_t data_offset = prefix + header_bytes;
  const uint64_t present = bytes.size() - data_offset;
  check(present >= static_cast<uint64_t>(needed),
        "{}: truncated data: shape {} of '{}' needs {} bytes, file has {}", source,
        npy_shape_string(array.shape), header.descr, needed, present);
  check(present == static_cast<uint64_t>(needed),
        "{}: {} bytes of data, but shape {} of '{}' needs {}", source, present,
        npy_shape_string(array.shape), header.descr, needed);

  // Reuse the file's buffer for the data rather than holding two copies.
  bytes.erase(bytes.begin(), bytes.begin() + data_offset);
  array.data = std::move(bytes);
  if (array.dtype == NpyDtype::kBool) {
    for (size_t i = 0; i < array.data.size(); ++i)
      check(array.data[i] <= 1, "{}: bool element {} holds byte {}, expected 0 or 1", source, i,
            array.data[i]);
  }
  return array;
}

std::vector<uint8_t> write_npy(const NpyArray& array) {
  check_size(array, "write_npy");
  const std::string descr = npy_descr(array.dtype, array.item_bytes);
  std::string header =
      fmt::format("{{'descr': '{}', 'fortran_order': {}, 'shape': {}, }}", descr,
                  array.fortran_order ? "True" : "False", npy_shape_string(array.shape));
  // numpy pads the header with spaces so that the data starts on a 64-byte
  // boundary, and ends it with a newline. At most 64 dimensions keep it well
  // under the 65535 bytes a version 1.0 header can hold.
  const size_t prefix = 10;
  size_t total = prefix + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';

  std::vector<uint8_t> out;
  out.reserve(prefix + header.size() + array.data.size());
  out.insert(out.end(), kMagic, kMagic + kMagicBytes);
  out.push_back(1);
  out.push_back(0);
  out.push_back(static_cast<uint8_t>(header.size() & 0xff));
  out.push_back(static_cast<uint8_t>(header.size() >> 8));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), array.data.begin(), array.data.end());
  return out;
}

std::vector<float> as_float32(const NpyArray& array, const std::string& source) {
  return convert_numeric<float>(array, source, /*allow_float=*/true, "a numeric",
                                [](auto, int64_t) {});
}

std::vector<int64_t> as_int64(const NpyArray& array, const std::string& source) {
  return convert_numeric<int64_t>(array, source, /*allow_float=*/false, "an integer",
                                  [](auto, int64_t) {});
}

std::vector<int32_t> as_int32_checked(const NpyArray& array, const std::string& source) {
  return convert_numeric<int32_t>(
      array, source, /*allow_float=*/false, "an integer", [&](auto value, int64_t i) {
        auto wide = static_cast<int64_t>(value);
        check(wide >= INT32_MIN && wide <= INT32_MAX,
              "{}: value {} at element {} does not fit in int32", source, wide, i);
      });
}

std::string as_byte_string(const NpyArray& array, const std::string& source) {
  check_size(array, source);
  check(array.dtype == NpyDtype::kBytes && array.num_elements() == 1,
        "{}: expected a single byte string, got dtype '{}' shape {}", source,
        npy_descr(array.dtype, array.item_bytes), npy_shape_string(array.shape));
  std::string value(array.data.begin(), array.data.end());
  while (!value.empty() && value.back() == '\0') value.pop_back();
  return value;
}

}  // namespace edgegnn::graph
