// libFuzzer harness for the METIS graph parser. Any input may be rejected with
// edgegnn::Error; nothing may crash, read out of bounds or leak. What parses
// must have every id below num_nodes, list its vertices' neighbours in vertex
// order, and read back the same once written out as a plain METIS file.
#include <fmt/format.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/error.h"
#include "graph/metis_graph.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgegnn::graph;
  StructureEdges parsed;
  try {
    parsed = parse_metis_graph(std::string_view(reinterpret_cast<const char*>(data), size),
                               "fuzz.graph");
  } catch (const edgegnn::Error&) {
    return 0;
  }
  const EdgeList& edges = parsed.edges;
  const size_t num_entries = edges.src.size();
  if (num_entries == 0 || num_entries % 2 != 0 || edges.dst.size() != num_entries) std::abort();
  for (size_t i = 0; i < num_entries; ++i) {
    if (edges.src[i] < 0 || edges.src[i] >= parsed.num_nodes || edges.dst[i] < 0 ||
        edges.dst[i] >= parsed.num_nodes)
      std::abort();
    if (i > 0 && edges.dst[i] < edges.dst[i - 1]) std::abort();  // vertex lines come in order
  }

  // Not caught: written back without weights, as n lines, it must parse the
  // same. n can be large with few edges: the isolated vertices' blank lines are
  // n bytes, so only inputs of modest n are rewritten.
  if (parsed.num_nodes > (int64_t{1} << 20)) return 0;
  std::string text = fmt::format("{} {}\n", parsed.num_nodes, num_entries / 2);
  size_t i = 0;
  for (int64_t v = 0; v < parsed.num_nodes; ++v) {
    for (; i < num_entries && edges.dst[i] == v; ++i) text += fmt::format("{} ", edges.src[i] + 1);
    text += '\n';
  }
  StructureEdges again = parse_metis_graph(text, "rewritten.graph");
  if (again.num_nodes != parsed.num_nodes || again.edges.src != edges.src ||
      again.edges.dst != edges.dst)
    std::abort();
  return 0;
}
