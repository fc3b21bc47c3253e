// NpyArray: one NumPy array as stored in a .npy file (format versions 1.0, 2.0
// and 3.0), held as its raw little-endian bytes plus dtype, shape and order.
//
// parse_npy reads the bytes of a whole .npy file; write_npy produces bytes that
// numpy.load reads back. The typed converters (as_float32, as_int64, ...) return
// the elements in C order whatever order the file used, so callers never see
// Fortran layout. Only the dtypes a graph file needs are supported; anything
// else (big-endian, objects, structured records) is an Error naming `source`.
//
// An NpyArray owns its bytes. All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace edgegnn::graph {

enum class NpyDtype : uint8_t {
  kFloat32,  // '<f4'
  kFloat64,  // '<f8'
  kInt8,     // '|i1'
  kInt32,    // '<i4'
  kInt64,    // '<i8'
  kUint8,    // '|u1'
  kBool,     // '|b1', one byte 0 or 1
  kBytes,    // '|S<n>', fixed-width byte strings (scipy's sparse 'format' tag)
};

struct NpyArray {
  NpyDtype dtype = NpyDtype::kUint8;
  int64_t item_bytes = 1;      // bytes per element; the n of '|S<n>' for kBytes
  std::vector<int64_t> shape;  // () is a 0-d array of one element
  bool fortran_order = false;  // data is column-major
  std::vector<uint8_t> data;   // num_elements() * item_bytes bytes

  int64_t num_elements() const;
};

// The numpy descr of an array's dtype, e.g. "<f4" or "|S3".
std::string npy_descr(NpyDtype dtype, int64_t item_bytes);

// A shape as Python prints it: "(3, 4)", "(3,)", "()".
std::string npy_shape_string(const std::vector<int64_t>& shape);

// Parses the whole contents of a .npy file. `source` names it in errors, e.g.
// "reddit_data.npz/feature.npy". The data size must match the shape exactly, so
// no shape can make this allocate more than `bytes` already holds.
NpyArray parse_npy(std::vector<uint8_t> bytes, const std::string& source);

// The bytes of a .npy file (format 1.0) holding `array`, order flag included.
// Throws Error if array.data does not match its dtype and shape.
std::vector<uint8_t> write_npy(const NpyArray& array);

// Elements in C order. as_float32 takes any numeric dtype (float64 is rounded);
// as_int64 takes integer and bool dtypes; as_int32_checked also fails on values
// outside int32. Errors name `source`.
std::vector<float> as_float32(const NpyArray& array, const std::string& source);
std::vector<int64_t> as_int64(const NpyArray& array, const std::string& source);
std::vector<int32_t> as_int32_checked(const NpyArray& array, const std::string& source);

// The single string of a one-element '|S<n>' array, trailing NULs removed as
// numpy does.
std::string as_byte_string(const NpyArray& array, const std::string& source);

// An array of `shape` holding `values` (C order), dtype taken from T.
template <typename T>
NpyArray make_npy(std::vector<int64_t> shape, std::span<const T> values) {
  NpyArray array;
  if constexpr (std::is_same_v<T, float>)
    array.dtype = NpyDtype::kFloat32;
  else if constexpr (std::is_same_v<T, double>)
    array.dtype = NpyDtype::kFloat64;
  else if constexpr (std::is_same_v<T, int8_t>)
    array.dtype = NpyDtype::kInt8;
  else if constexpr (std::is_same_v<T, int32_t>)
    array.dtype = NpyDtype::kInt32;
  else if constexpr (std::is_same_v<T, int64_t>)
    array.dtype = NpyDtype::kInt64;
  else if constexpr (std::is_same_v<T, uint8_t>)
    array.dtype = NpyDtype::kUint8;
  else
    static_assert(sizeof(T) == 0, "no npy dtype for this type");
  array.item_bytes = sizeof(T);
  array.shape = std::move(shape);
  const auto* bytes = reinterpret_cast<const uint8_t*>(values.data());
  array.data.assign(bytes, bytes + values.size_bytes());
  return array;
}

}  // namespace edgegnn::graph
