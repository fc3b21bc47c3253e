// libFuzzer harness for the Planetoid pickle reader: any input must either
// parse or throw edgegnn::Error, and so must every extraction helper run on
// what parsed. Anything else (a crash, a sanitizer report, another exception,
// a leak) is a bug. Seed it with the ind.* files of datasets/planetoid.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"
#include "graph/pickle.h"

namespace pickle = edgegnn::graph::pickle;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string source = "fuzz";
  pickle::Tree tree;
  try {
    tree = pickle::parse(std::span(data, size), source);
  } catch (const edgegnn::Error&) {
    return 0;
  }
  // Each helper fails on most trees; run them all, independently.
  try {
    pickle::to_csr_matrix(tree.root(), source);
  } catch (const edgegnn::Error&) {
  }
  try {
    pickle::to_float32_array(tree.root(), source);
  } catch (const edgegnn::Error&) {
  }
  try {
    pickle::to_int32_array(tree.root(), source);
  } catch (const edgegnn::Error&) {
  }
  try {
    pickle::to_int_list_dict(tree.root(), source);
  } catch (const edgegnn::Error&) {
  }
  return 0;
}
