#include "graph/pickle.h"

#include <bit>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"

namespace edgegnn::graph::pickle {

// Array data is copied byte for byte from the little-endian pickles.
static_assert(std::endian::native == std::endian::little, "pickle arrays are little-endian");

namespace {

// The opcodes the Planetoid pickles use, and no others (names as in pickletools).
namespace op {
// A table reads better than one opcode per line.
// clang-format off
enum : uint8_t {
  kMark = '(', kEmptyTuple = ')', kStop = '.', kBinint = 'J', kBinint1 = 'K', kBinint2 = 'M',
  kNone = 'N', kReduce = 'R', kBinstring = 'T', kShortBinstring = 'U', kEmptyList = ']',
  kAppend = 'a', kBuild = 'b', kGlobal = 'c', kAppends = 'e', kBinget = 'h', kBinput = 'q',
  kLongBinput = 'r', kTuple = 't', kSetitems = 'u', kEmptyDict = '}', kProto = 0x80,
  kNewobj = 0x81, kTuple1 = 0x85, kTuple2 = 0x86, kTuple3 = 0x87, kNewtrue = 0x88, kNewfalse = 0x89,
};
// clang-format on
}  // namespace op

// The real files need at most ~2,000 stack entries and ~20,000 memo entries;
// the limits keep a hostile file from growing either without bound.
constexpr size_t kMaxStackSize = size_t{1} << 20;
constexpr size_t kMaxMemoSize = size_t{1} << 20;
// Longer GLOBAL lines cannot name an allowed class; cap what an error echoes.
constexpr size_t kMaxGlobalLine = 64;
constexpr size_t kMaxDims = 32;  // numpy's own limit
// Both supported dtypes, f4 and i4, are 4 bytes wide.
constexpr size_t kItemSize = 4;

struct GlobalName {
  Global global;
  std::string_view module;
  std::string_view name;
};

constexpr GlobalName kGlobalNames[] = {
    {Global::kReconstruct, "numpy.core.multiarray", "_reconstruct"},
    {Global::kNdarray, "numpy", "ndarray"},
    {Global::kDtype, "numpy", "dtype"},
    {Global::kCsrMatrix, "scipy.sparse.csr", "csr_matrix"},
    {Global::kDefaultDict, "collections", "defaultdict"},
    {Global::kList, "__builtin__", "list"},
};

std::string global_name(Global global) {
  for (const GlobalName& g : kGlobalNames)
    if (g.global == global) return fmt::format("{}.{}", g.module, g.name);
  return "?";
}

std::string_view kind_name(Kind kind) {
  // In the order of Kind.
  constexpr std::string_view kNames[] = {"None",   "bool",        "int",        "str",
                                         "tuple",  "list",        "dict",       "class",
                                         "object", "numpy array", "numpy dtype"};
  return kNames[static_cast<size_t>(kind)];
}

// `text` with every byte outside printable ASCII shown as '?', so that names
// read from a file keep an error message on one readable line.
std::string printable(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c < 0x20 || c > 0x7e) c = '?';
  return out;
}

bool is_global(const Value* value, Global global) {
  return value->kind == Kind::kGlobal && value->global == global;
}

bool is_int(const Value* value, int64_t integer) {
  return value->kind == Kind::kInt && value->integer == integer;
}

}  // namespace

// Runs the pickle machine over the input once. Every opcode creates at most one
// Value, and None/True/False are shared, which is what bounds the Tree's size.
class Parser {
 public:
  Parser(std::span<const uint8_t> bytes, const std::string& source)
      : bytes_(bytes), source_(source) {
    none_ = make(Kind::kNone);
    true_ = make(Kind::kBool);
    true_->integer = 1;
    false_ = make(Kind::kBool);
  }

  Tree run() {
    while (pos_ < bytes_.size()) {
      op_pos_ = pos_;
      uint8_t code = read_u8();
      if (code == op::kStop) {
        tree_.root_ = pop();
        check(stack_.empty() && marks_.empty(), "{}: pickle ends with {} unused stack entries",
              source_, stack_.size());
        check(pos_ == bytes_.size(), "{}: {} bytes after the pickle's STOP at byte {}", source_,
              bytes_.size() - pos_, op_pos_);
        return std::move(tree_);
      }
      step(code);
    }
    fail("{}: truncated pickle: no STOP opcode in {} bytes", source_, bytes_.size());
  }

 private:
  void step(uint8_t code) {
    switch (code) {
      case op::kProto: {
        uint8_t version = read_u8();
        check(version == 2, "{}: unsupported pickle protocol {} at byte {}, expected 2", source_,
              version, op_pos_);
        return;
      }
      // Constants and strings.
      case op::kNone:
        return push(none_);
      case op::kNewtrue:
        return push(true_);
      case op::kNewfalse:
        return push(false_);
      case op::kBinint:
        return push_int(static_cast<int32_t>(read_u32()));
      case op::kBinint1:
        return push_int(read_u8());
      case op::kBinint2: {
        uint16_t low = read_u8();
        return push_int(low | uint16_t{read_u8()} << 8);
      }
      case op::kShortBinstring:
        return push_bytes(read_u8());
      case op::kBinstring: {
        int32_t length = static_cast<int32_t>(read_u32());
        check(length >= 0, "{}: negative string length {} at byte {}", source_, length, op_pos_);
        return push_bytes(static_cast<size_t>(length));
      }
      // Containers. MARK opens a run of stack entries that TUPLE, APPENDS and
      // SETITEMS consume.
      case op::kMark:
        check(marks_.size() < kMaxStackSize, "{}: more than {} open MARKs at byte {}", source_,
              kMaxStackSize, op_pos_);
        marks_.push_back(stack_.size());
        return;
      case op::kEmptyTuple:
        return push(make(Kind::kTuple));
      case op::kEmptyList:
        return push(make(Kind::kList));
      case op::kEmptyDict:
        return push(make(Kind::kDict));
      case op::kTuple: {
        size_t mark = pop_mark();
        Value* tuple = make(Kind::kTuple);
        move_above(mark, *tuple);
        return push(tuple);
      }
      case op::kTuple1:
        return push_tuple(1);
      case op::kTuple2:
        return push_tuple(2);
      case op::kTuple3:
        return push_tuple(3);
      case op::kAppend: {
        Value* item = pop();
        Value* list = top(Kind::kList);
        list->items.push_back(item);
        return;
      }
      case op::kAppends: {
        size_t mark = pop_mark();
        return move_above(mark, *below(mark, Kind::kList));
      }
      case op::kSetitems: {
        size_t mark = pop_mark();
        Value* dict = below(mark, Kind::kDict);
        check((stack_.size() - mark) % 2 == 0,
              "{}: SETITEMS with an odd number of items at byte {}", source_, op_pos_);
        return move_above(mark, *dict);
      }
      // Memo: PUT remembers the top of the stack, GET pushes it again.
      case op::kBinput:
        return memo_put(read_u8());
      case op::kLongBinput:
        return memo_put(read_u32());
      case op::kBinget: {
        auto it = memo_.find(read_u8());
        check(it != memo_.end(), "{}: BINGET of an unset memo entry at byte {}", source_, op_pos_);
        return push(it->second);
      }
      // Objects: only the allowed globals, called in the ways the files call them.
      case op::kGlobal:
        return push_global();
      case op::kReduce: {
        Value* args = pop();
        Value* callable = pop();
        return push(reduce(*callable, *args));
      }
      case op::kNewobj: {
        Value* args = pop();
        Value* cls = pop();
        check(
            is_global(cls, Global::kCsrMatrix) && args->kind == Kind::kTuple && args->items.empty(),
            "{}: NEWOBJ supports only csr_matrix() at byte {}", source_, op_pos_);
        Value* object = make(Kind::kObject);
        object->global = Global::kCsrMatrix;
        return push(object);
      }
      case op::kBuild: {
        Value* state = pop();
        build(*top(), *state);
        return;
      }
      default:
        fail("{}: unsupported pickle opcode 0x{:02x} at byte {}", source_, code, op_pos_);
    }
  }

  // --- Reading the input; every read is checked against what remains.

  std::span<const uint8_t> read_bytes(size_t n) {
    check(n <= bytes_.size() - pos_,
          "{}: truncated pickle: opcode 0x{:02x} at byte {} needs {} more bytes, {} remain",
          source_, bytes_[op_pos_], op_pos_, n, bytes_.size() - pos_);
    std::span<const uint8_t> out = bytes_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  uint8_t read_u8() { return read_bytes(1)[0]; }
  uint32_t read_u32() {
    std::span<const uint8_t> b = read_bytes(4);
    return uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
  }
  std::string_view read_line() {
    size_t end = pos_;
    while (end < bytes_.size() && end - pos_ < kMaxGlobalLine && bytes_[end] != '\n') ++end;
    check(end < bytes_.size(), "{}: truncated pickle: GLOBAL at byte {} has no end of line",
          source_, op_pos_);
    check(bytes_[end] == '\n', "{}: GLOBAL name longer than {} bytes at byte {}", source_,
          kMaxGlobalLine, op_pos_);
    std::string_view line(reinterpret_cast<const char*>(bytes_.data()) + pos_, end - pos_);
    pos_ = end + 1;
    return line;
  }

  // --- The stack and the memo.

  Value* make(Kind kind) {
    Value& value = tree_.values_.emplace_back();
    value.kind = kind;
    return &value;
  }
  void push(Value* value) {
    check(stack_.size() < kMaxStackSize, "{}: pickle stack exceeds {} entries at byte {}", source_,
          kMaxStackSize, op_pos_);
    stack_.push_back(value);
  }
  void push_int(int64_t integer) {
    Value* value = make(Kind::kInt);
    value->integer = integer;
    push(value);
  }
  void push_bytes(size_t length) {
    Value* value = make(Kind::kBytes);
    value->bytes = read_bytes(length);
    push(value);
  }
  void push_tuple(size_t n) {
    Value* tuple = make(Kind::kTuple);
    tuple->items.resize(n);
    for (size_t i = n; i > 0; --i) tuple->items[i - 1] = pop();
    push(tuple);
  }
  // The entries above the innermost MARK belong to it; nothing else may pop them.
  size_t stack_floor() const { return marks_.empty() ? 0 : marks_.back(); }
  Value* top() { return below(stack_.size(), std::nullopt); }
  Value* top(Kind kind) { return below(stack_.size(), kind); }
  // The entry under stack_[end], which must lie above the innermost MARK and,
  // if given, be of `kind`: the list or dict that APPENDS and SETITEMS extend
  // with the entries of the MARK they just closed.
  Value* below(size_t end, std::optional<Kind> kind) {
    check(end > stack_floor(), "{}: pickle stack underflow at byte {}", source_, op_pos_);
    Value* value = stack_[end - 1];
    check(!kind || value->kind == *kind, "{}: opcode 0x{:02x} at byte {} needs a {}, found a {}",
          source_, bytes_[op_pos_], op_pos_, kind_name(kind.value_or(Kind::kNone)),
          kind_name(value->kind));
    return value;
  }
  Value* pop() {
    Value* value = top();
    stack_.pop_back();
    return value;
  }
  // Moves the entries stack_[mark ..] to the end of `container`'s items.
  void move_above(size_t mark, Value& container) {
    container.items.insert(container.items.end(), stack_.begin() + mark, stack_.end());
    stack_.resize(mark);
  }
  // Closes the innermost MARK; its entries are stack_[result ..].
  size_t pop_mark() {
    check(!marks_.empty(), "{}: opcode 0x{:02x} at byte {} has no MARK", source_, bytes_[op_pos_],
          op_pos_);
    size_t mark = marks_.back();
    marks_.pop_back();
    return mark;
  }
  void memo_put(uint32_t index) {
    check(memo_.size() < kMaxMemoSize || memo_.count(index) != 0,
          "{}: pickle memo exceeds {} entries at byte {}", source_, kMaxMemoSize, op_pos_);
    memo_[index] = top();
  }

  // --- Objects.

  void push_global() {
    std::string_view module = read_line();
    std::string_view name = read_line();
    for (const GlobalName& g : kGlobalNames) {
      if (g.module == module && g.name == name) {
        Value* value = make(Kind::kGlobal);
        value->global = g.global;
        return push(value);
      }
    }
    fail("{}: unsupported class {}.{} at byte {}", source_, printable(module), printable(name),
         op_pos_);
  }

  Value* reduce(const Value& callable, const Value& args) {
    check(callable.kind == Kind::kGlobal && args.kind == Kind::kTuple,
          "{}: REDUCE of a {} with a {} at byte {}", source_, kind_name(callable.kind),
          kind_name(args.kind), op_pos_);
    switch (callable.global) {
      // _reconstruct(ndarray, (0,), 'b') makes an empty array; BUILD then sets
      // shape, dtype and data, so only the class matters here.
      case Global::kReconstruct:
        check(args.items.size() == 3 && is_global(args.items[0], Global::kNdarray),
              "{}: _reconstruct supports only numpy.ndarray at byte {}", source_, op_pos_);
        return make(Kind::kNdarray);
      // dtype(code, align, copy); BUILD then sets the byte order.
      case Global::kDtype: {
        check(args.items.size() == 3 && args.items[0]->kind == Kind::kBytes,
              "{}: numpy.dtype needs (code, align, copy) at byte {}", source_, op_pos_);
        std::string_view code = args.items[0]->str();
        check(code == "f4" || code == "i4", "{}: unsupported dtype '{}' at byte {}", source_,
              printable(code.substr(0, kMaxGlobalLine)), op_pos_);
        Value* dtype = make(Kind::kDtype);
        dtype->bytes = args.items[0]->bytes;
        return dtype;
      }
      case Global::kDefaultDict:
        check(args.items.size() == 1 && is_global(args.items[0], Global::kList),
              "{}: only defaultdict(list) is supported at byte {}", source_, op_pos_);
        return make(Kind::kDict);
      default:
        fail("{}: cannot call {} at byte {}", source_, global_name(callable.global), op_pos_);
    }
  }

  void build(Value& object, const Value& state) {
    switch (object.kind) {
      case Kind::kNdarray:
        return build_ndarray(object, state);
      case Kind::kDtype:
        return build_dtype(object, state);
      // csr_matrix: the state is its __dict__. Python would copy it into the
      // instance; pointing to it instead keeps a dict reused by many BUILDs
      // from costing its size each time. One BUILD is all a csr_matrix needs.
      case Kind::kObject:
        check(state.kind == Kind::kDict, "{}: csr_matrix state is a {}, expected a dict at byte {}",
              source_, kind_name(state.kind), op_pos_);
        check(object.items.empty(), "{}: csr_matrix built twice at byte {}", source_, op_pos_);
        object.items.push_back(&state);
        return;
      default:
        fail("{}: BUILD of a {} at byte {}", source_, kind_name(object.kind), op_pos_);
    }
  }

  // State (1, shape, dtype, fortran_order, raw bytes), as ndarray.__reduce__ writes.
  void build_ndarray(Value& array, const Value& state) {
    check(state.kind == Kind::kTuple && state.items.size() == 5 && is_int(state.items[0], 1) &&
              state.items[1]->kind == Kind::kTuple && state.items[2]->kind == Kind::kDtype &&
              state.items[3]->kind == Kind::kBool && state.items[4]->kind == Kind::kBytes,
          "{}: numpy array state is not (1, shape, dtype, fortran, data) at byte {}", source_,
          op_pos_);
    check(state.items[3]->integer == 0, "{}: Fortran-order arrays are not supported at byte {}",
          source_, op_pos_);
    const Value& shape = *state.items[1];
    std::span<const uint8_t> data = state.items[4]->bytes;
    check(shape.items.size() <= kMaxDims, "{}: array has {} dimensions at byte {}", source_,
          shape.items.size(), op_pos_);
    // Count elements saturating just above what the data holds, so that a huge
    // shape cannot overflow (a later zero dimension still brings it to 0).
    const uint64_t max_count = data.size() / kItemSize;
    uint64_t count = 1;
    array.shape.clear();
    for (const Value* dim : shape.items) {
      check(dim->kind == Kind::kInt && dim->integer >= 0,
            "{}: array shape holds a negative or non-integer size at byte {}", source_, op_pos_);
      const uint64_t size = static_cast<uint64_t>(dim->integer);
      count = size != 0 && count > max_count / size ? max_count + 1 : count * size;
      array.shape.push_back(dim->integer);
    }
    check(count <= max_count && count * kItemSize == data.size(),
          "{}: array shape does not match its {} data bytes at byte {}", source_, data.size(),
          op_pos_);
    array.dtype = state.items[2];
    array.bytes = data;
  }

  // State (3, byte_order, subarray, names, fields, elsize, alignment, flags);
  // the last five are None, None, None, -1, -1, 0 for the plain types we allow.
  void build_dtype(Value& dtype, const Value& state) {
    check(state.kind == Kind::kTuple && state.items.size() == 8 && is_int(state.items[0], 3) &&
              state.items[1]->kind == Kind::kBytes && state.items[1]->bytes.size() == 1 &&
              state.items[2] == none_ && state.items[3] == none_ && state.items[4] == none_,
          "{}: numpy dtype state is not that of a plain type at byte {}", source_, op_pos_);
    char order = static_cast<char>(state.items[1]->bytes[0]);
    // numpy writes '|' where byte order does not apply; '>' would need swapping.
    check(order == '<' || order == '|', "{}: unsupported dtype byte order '{}' at byte {}", source_,
          printable({&order, 1}), op_pos_);
    dtype.byte_order = order;
  }

  std::span<const uint8_t> bytes_;
  const std::string& source_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;  // start of the opcode being run, for error messages
  Tree tree_;
  std::vector<Value*> stack_;
  std::vector<size_t> marks_;  // stack sizes at each open MARK
  std::unordered_map<uint32_t, Value*> memo_;
  Value* none_ = nullptr;
  Value* true_ = nullptr;
  Value* false_ = nullptr;
};

Tree parse(std::span<const uint8_t> bytes, const std::string& source) {
  return Parser(bytes, source).run();
}

namespace {

template <typename T>
Array<T> to_array(const Value& value, std::string_view code, const std::string& source) {
  check(value.kind == Kind::kNdarray && value.dtype != nullptr,
        "{}: expected a numpy array, found a {}", source, kind_name(value.kind));
  check(value.dtype->str() == code, "{}: expected a numpy array of dtype {}, found {}", source,
        code, value.dtype->str());
  Array<T> array;
  array.shape = value.shape;
  array.values.resize(value.bytes.size() / sizeof(T));
  std::memcpy(array.values.data(), value.bytes.data(), array.values.size() * sizeof(T));
  return array;
}

// The last value stored under `key` in a csr_matrix's __dict__.
const Value& attribute(const Value& object, std::string_view key, const std::string& source) {
  check(!object.items.empty(), "{}: csr_matrix has no state", source);
  const std::vector<const Value*>& dict = object.items[0]->items;
  const Value* found = nullptr;
  for (size_t i = 0; i + 1 < dict.size(); i += 2)
    if (dict[i]->kind == Kind::kBytes && dict[i]->str() == key) found = dict[i + 1];
  check(found != nullptr, "{}: csr_matrix has no attribute '{}'", source, key);
  return *found;
}

// A 1-d array attribute of a csr_matrix.
template <typename T>
std::vector<T> vector_attribute(const Value& object, std::string_view key, std::string_view code,
                                const std::string& source) {
  Array<T> array = to_array<T>(attribute(object, key, source), code, source);
  check(array.shape.size() == 1, "{}: csr_matrix.{} has {} dimensions, expected 1", source, key,
        array.shape.size());
  return std::move(array.values);
}

}  // namespace

Array<float> to_float32_array(const Value& value, const std::string& source) {
  return to_array<float>(value, "f4", source);
}

Array<int32_t> to_int32_array(const Value& value, const std::string& source) {
  return to_array<int32_t>(value, "i4", source);
}

CsrMatrix to_csr_matrix(const Value& value, const std::string& source) {
  check(value.kind == Kind::kObject && value.global == Global::kCsrMatrix,
        "{}: expected a scipy csr_matrix, found a {}", source, kind_name(value.kind));
  const Value& shape = attribute(value, "_shape", source);
  check(shape.kind == Kind::kTuple && shape.items.size() == 2 &&
            shape.items[0]->kind == Kind::kInt && shape.items[1]->kind == Kind::kInt,
        "{}: csr_matrix._shape is not a pair of ints", source);
  CsrMatrix m;
  m.num_rows = shape.items[0]->integer;
  m.num_cols = shape.items[1]->integer;
  // Ids must fit int32, as scipy's int32 indices and indptr do.
  constexpr int64_t kMaxSize = int64_t{1} << 31;
  check(m.num_rows >= 0 && m.num_rows < kMaxSize && m.num_cols >= 0 && m.num_cols <= kMaxSize,
        "{}: csr_matrix shape ({}, {}) out of range", source, m.num_rows, m.num_cols);

  std::vector<int32_t> indptr = vector_attribute<int32_t>(value, "indptr", "i4", source);
  m.indices = vector_attribute<int32_t>(value, "indices", "i4", source);
  m.data = vector_attribute<float>(value, "data", "f4", source);
  check(static_cast<int64_t>(indptr.size()) == m.num_rows + 1,
        "{}: csr_matrix.indptr has {} entries for {} rows", source, indptr.size(), m.num_rows);
  check(m.indices.size() == m.data.size(), "{}: csr_matrix has {} indices but {} values", source,
        m.indices.size(), m.data.size());
  check(indptr[0] == 0 && indptr.back() == static_cast<int64_t>(m.indices.size()),
        "{}: csr_matrix.indptr runs from {} to {}, expected 0 to {}", source, indptr[0],
        indptr.back(), m.indices.size());
  m.indptr.resize(indptr.size());
  for (size_t r = 0; r < indptr.size(); ++r) {
    check(r == 0 || indptr[r] >= indptr[r - 1], "{}: csr_matrix.indptr decreases at row {}", source,
          r);
    m.indptr[r] = indptr[r];
  }
  for (int32_t c : m.indices)
    check(c >= 0 && c < m.num_cols, "{}: csr_matrix column {} out of range [0, {})", source, c,
          m.num_cols);
  return m;
}

std::map<int64_t, std::vector<int64_t>> to_int_list_dict(const Value& value,
                                                         const std::string& source) {
  check(value.kind == Kind::kDict, "{}: expected a dict, found a {}", source,
        kind_name(value.kind));
  std::map<int64_t, std::vector<int64_t>> out;
  std::unordered_set<const Value*> seen_lists;
  for (size_t i = 0; i + 1 < value.items.size(); i += 2) {
    const Value& key = *value.items[i];
    const Value& list = *value.items[i + 1];
    check(key.kind == Kind::kInt, "{}: dict key is a {}, expected an int", source,
          kind_name(key.kind));
    check(list.kind == Kind::kList, "{}: dict value of key {} is a {}, expected a list", source,
          key.integer, kind_name(list.kind));
    check(seen_lists.insert(&list).second, "{}: the list of key {} is shared with another key",
          source, key.integer);
    std::vector<int64_t>& ints = out[key.integer];
    ints.clear();
    for (const Value* item : list.items) {
      check(item->kind == Kind::kInt, "{}: list of key {} holds a {}, expected ints", source,
            key.integer, kind_name(item->kind));
      ints.push_back(item->integer);
    }
  }
  return out;
}

}  // namespace edgegnn::graph::pickle
