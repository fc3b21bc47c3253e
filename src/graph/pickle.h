// A small, safe reader for the Python 2 protocol-2 pickles of the Planetoid
// datasets. It never executes anything: it knows the handful of opcodes those
// files use and a fixed list of classes (numpy arrays and dtypes, scipy's
// csr_matrix, collections.defaultdict of lists), and rejects everything else
// with an Error that starts with the source name, e.g.
//   "ind.cora.graph: unsupported pickle opcode 0x95 at byte 1234".
//
// parse() turns the bytes into a Tree of Values. The Tree owns every Value (so
// memo references, shared and even cyclic ones, cost nothing to free) and
// borrows the input: byte strings and array data are views into it, so the
// input must outlive the Tree. Memory is bounded by the input: at most one
// Value per input byte, and no length read from the file is trusted before it
// is checked against the bytes that remain. The to_* helpers check a Value's
// shape and copy it out as plain vectors. Nothing here is thread-safe for
// mutation; a finished Tree may be read from several threads.
//
//   std::vector<uint8_t> bytes = ...;  // ind.cora.tx
//   pickle::Tree tree = pickle::parse(bytes, "ind.cora.tx");
//   pickle::CsrMatrix tx = pickle::to_csr_matrix(tree.root(), "ind.cora.tx");
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace edgegnn::graph::pickle {

enum class Kind : uint8_t {
  kNone,
  kBool,
  kInt,
  kBytes,  // a Python 2 str
  kTuple,
  kList,
  kDict,     // also collections.defaultdict(list)
  kGlobal,   // one of the allowed classes or functions, see Global
  kObject,   // an instance built by NEWOBJ (only csr_matrix) with its __dict__
  kNdarray,  // numpy.ndarray
  kDtype,    // numpy.dtype
};

// The only globals a pickle may name.
enum class Global : uint8_t {
  kReconstruct,  // numpy.core.multiarray._reconstruct
  kNdarray,      // numpy.ndarray
  kDtype,        // numpy.dtype
  kCsrMatrix,    // scipy.sparse.csr.csr_matrix
  kDefaultDict,  // collections.defaultdict
  kList,         // __builtin__.list, as the defaultdict's factory
};

struct Value {
  Kind kind = Kind::kNone;
  Global global = Global::kReconstruct;  // kGlobal: which one; kObject: its class
  char byte_order = '<';                 // kDtype: '<' little-endian or '|' not applicable
  bool fortran_order = false;            // kNdarray
  int64_t integer = 0;                   // kInt; kBool as 0 or 1
  // kBytes: the string; kDtype: the type code ("f4", "i4"); kNdarray: the raw
  // element data.
  std::span<const uint8_t> bytes;
  // kTuple, kList: the elements; kDict: key, value, key, value, ... in
  // insertion order; kObject: one item, its __dict__ (a kDict), once built.
  std::vector<const Value*> items;
  std::vector<int64_t> shape;    // kNdarray
  const Value* dtype = nullptr;  // kNdarray: a kDtype, null until BUILD

  std::string_view str() const {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }
};

// A parsed pickle. Move-only; Values stay at their address for its lifetime.
class Tree {
 public:
  Tree() = default;
  Tree(const Tree&) = delete;
  Tree& operator=(const Tree&) = delete;
  Tree(Tree&&) noexcept = default;
  Tree& operator=(Tree&&) noexcept = default;

  const Value& root() const { return *root_; }

 private:
  friend class Parser;
  std::deque<Value> values_;
  const Value* root_ = nullptr;
};

// Parses one pickle that must end exactly at its STOP opcode. `source` (a file
// name) starts every error message.
Tree parse(std::span<const uint8_t> bytes, const std::string& source);

// A numpy array in C order with its elements copied out.
template <typename T>
struct Array {
  std::vector<int64_t> shape;
  std::vector<T> values;
};

// The array `value` as float32 (dtype must be f4) or int32 (dtype must be i4).
Array<float> to_float32_array(const Value& value, const std::string& source);
Array<int32_t> to_int32_array(const Value& value, const std::string& source);

// A scipy CSR matrix: row r holds the entries (indices[k], data[k]) for k in
// [indptr[r], indptr[r+1]). Checked: indptr starts at 0, never decreases and
// ends at nnz; every column index lies in [0, num_cols). Duplicate entries are
// allowed, as in scipy, and add up.
struct CsrMatrix {
  int64_t num_rows = 0;
  int64_t num_cols = 0;
  std::vector<int64_t> indptr;
  std::vector<int32_t> indices;
  std::vector<float> data;
};

// `value` must be a csr_matrix with float32 data and int32 indices and indptr.
CsrMatrix to_csr_matrix(const Value& value, const std::string& source);

// A dict (or defaultdict) from int to list of ints, e.g. an adjacency list. A
// key given twice keeps its last list, as in Python. A list may be the value of
// only one key: sharing one list between keys would let a small file expand
// into a huge result.
std::map<int64_t, std::vector<int64_t>> to_int_list_dict(const Value& value,
                                                         const std::string& source);

}  // namespace edgegnn::graph::pickle
