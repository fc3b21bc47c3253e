// libFuzzer harness for the .npy parser and its converters. Any input may be
// rejected with edgegnn::Error; nothing may crash, read out of bounds or leak,
// and every array that parses must come back unchanged through write_npy.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/error.h"
#include "graph/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgegnn::graph;
  NpyArray array;
  try {
    array = parse_npy(std::vector<uint8_t>(data, data + size), "fuzz.npy");
  } catch (const edgegnn::Error&) {
    return 0;
  }
  try {
    as_float32(array, "fuzz.npy");
  } catch (const edgegnn::Error&) {
  }
  try {
    as_int64(array, "fuzz.npy");
  } catch (const edgegnn::Error&) {
  }
  try {
    as_int32_checked(array, "fuzz.npy");
  } catch (const edgegnn::Error&) {
  }
  try {
    as_byte_string(array, "fuzz.npy");
  } catch (const edgegnn::Error&) {
  }
  // Not caught: an array we parsed must be writable and parse back the same.
  NpyArray again = parse_npy(write_npy(array), "rewritten.npy");
  if (again.dtype != array.dtype || again.item_bytes != array.item_bytes ||
      again.shape != array.shape || again.fortran_order != array.fortran_order ||
      again.data != array.data)
    std::abort();
  return 0;
}
