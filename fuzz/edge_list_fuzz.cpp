// libFuzzer harness for the edge-list parser. Any input may be rejected with
// edgegnn::Error; nothing may crash, read out of bounds or leak. What parses
// must have every id below num_nodes, read back the same once written out as
// plain "src dst" lines, and build a CSR when small enough to.
#include <fmt/format.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/error.h"
#include "graph/edge_list.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgegnn::graph;
  StructureEdges parsed;
  try {
    parsed =
        parse_edge_list(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.txt");
  } catch (const edgegnn::Error&) {
    return 0;
  }
  const EdgeList& edges = parsed.edges;
  if (edges.src.empty() || edges.src.size() != edges.dst.size()) std::abort();
  int64_t max_id = -1;
  for (size_t i = 0; i < edges.src.size(); ++i) {
    if (edges.src[i] < 0 || edges.dst[i] < 0) std::abort();
    max_id = std::max<int64_t>(max_id, std::max(edges.src[i], edges.dst[i]));
  }
  if (parsed.num_nodes != max_id + 1) std::abort();

  // Not caught: edges we parsed, written back, must parse the same.
  std::string text;
  for (size_t i = 0; i < edges.src.size(); ++i)
    text += fmt::format("{} {}\n", edges.src[i], edges.dst[i]);
  StructureEdges again = parse_edge_list(text, "rewritten.txt");
  if (again.num_nodes != parsed.num_nodes || again.edges.src != edges.src ||
      again.edges.dst != edges.dst)
    std::abort();

  // The CSR of a graph small enough to allocate; all self-loops leave it empty.
  if (parsed.num_nodes <= (int64_t{1} << 16)) {
    auto [rowptr, col] = build_in_csr(parsed.num_nodes, edges, CsrOptions{}, "fuzz.txt");
    if (static_cast<int64_t>(rowptr.size()) != parsed.num_nodes + 1 ||
        rowptr.back() != static_cast<int64_t>(col.size()))
      std::abort();
  }
  return 0;
}
