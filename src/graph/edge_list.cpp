#include "graph/edge_list.h"

#include <algorithm>

#include "core/error.h"

namespace edgegnn::graph {
namespace {

// num_nodes = largest id + 1 must stay below 2^31, the CSR's id range.
constexpr int64_t kMaxNodeId = (int64_t{1} << 31) - 2;

int32_t parse_node_id(std::string_view field, const LineReader& lines) {
  int64_t id = 0;
  switch (parse_decimal(field, kMaxNodeId, &id)) {
    case Decimal::kOk:
      return static_cast<int32_t>(id);
    case Decimal::kNegative:
      fail("{}:{}: negative node id {}", lines.source(), lines.line_number(), excerpt(field));
    case Decimal::kTooLarge:
      fail("{}:{}: node id {} too large (ids must be below 2^31 - 1)", lines.source(),
           lines.line_number(), excerpt(field));
    case Decimal::kNotInteger:
      break;
  }
  fail("{}:{}: node id '{}' is not a non-negative integer", lines.source(), lines.line_number(),
       excerpt(field));
}

StructureEdges parse_edge_lines(LineReader& lines, const MemoryBudget& budget) {
  StructureEdges result;
  int64_t max_id = -1;
  std::string_view line;
  while (lines.next(&line)) {
    std::string_view rest = line;
    const std::string_view src_field = take_field(&rest);
    if (src_field.empty() || src_field[0] == '#' || src_field[0] == '%') continue;
    const std::string_view dst_field = take_field(&rest);
    check(!dst_field.empty(), "{}:{}: expected 'src dst', got '{}'", lines.source(),
          lines.line_number(), excerpt(line));
    const int32_t src = parse_node_id(src_field, lines);
    const int32_t dst = parse_node_id(dst_field, lines);
    result.edges.src.push_back(src);
    result.edges.dst.push_back(dst);
    max_id = std::max<int64_t>(max_id, std::max(src, dst));
    budget.check(max_id + 1, static_cast<int64_t>(result.edges.src.size()), "edges read so far");
  }
  check(max_id >= 0, "{}: no edges (expected lines 'src dst'; '#' starts a comment)",
        lines.source());
  result.num_nodes = max_id + 1;
  return result;
}

}  // namespace

StructureEdges parse_edge_list(std::string_view text, const std::string& source) {
  LineReader lines(text, source);
  return parse_edge_lines(lines, MemoryBudget());
}

Graph read_edge_list(const std::filesystem::path& path, const LoadOptions& options) {
  return read_structure_only_graph(path, options, {parse_edge_lines, /*lists_both_ends=*/false});
}

}  // namespace edgegnn::graph
