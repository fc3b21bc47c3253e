#include "graph/metis_graph.h"

#include "core/error.h"

namespace edgegnn::graph {
namespace {

// The CSR's ids are int32.
constexpr int64_t kMaxVertices = (int64_t{1} << 31) - 1;
// Keeps 2m, the entry count, far from overflow.
constexpr int64_t kMaxEdges = int64_t{1} << 60;
// METIS itself allows few constraints; this only bounds a corrupt header.
constexpr int64_t kMaxConstraints = 1024;

struct Header {
  int64_t num_vertices = 0;
  int64_t num_edges = 0;
  bool vertex_sizes = false;
  int64_t num_vertex_weights = 0;  // ncon when fmt has vertex weights
  bool edge_weights = false;
};

bool is_comment(std::string_view line) {
  const size_t first = line.find_first_not_of(" \t");
  return first != std::string_view::npos && line[first] == '%';
}

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

Header parse_header(std::string_view line, const LineReader& lines) {
  auto bad = [&](const char* what) {
    fail("{}:{}: bad header '{}': {}", lines.source(), lines.line_number(), excerpt(line), what);
  };
  std::string_view rest = line;
  Header header;
  if (parse_decimal(take_field(&rest), kMaxVertices, &header.num_vertices) != Decimal::kOk ||
      header.num_vertices == 0)
    bad("n must be an integer in [1, 2^31 - 1] (expected 'n m [fmt [ncon]]')");
  if (parse_decimal(take_field(&rest), kMaxEdges, &header.num_edges) != Decimal::kOk)
    bad("m must be a non-negative integer (expected 'n m [fmt [ncon]]')");
  const std::string_view fmt = take_field(&rest);
  if (!fmt.empty()) {
    if (fmt.size() > 3 || fmt.find_first_not_of("01") != std::string_view::npos)
      bad("fmt must be up to three 0/1 digits, e.g. 011");
    auto digit = [&](size_t from_right) {
      return fmt.size() > from_right && fmt[fmt.size() - 1 - from_right] == '1';
    };
    header.edge_weights = digit(0);
    header.num_vertex_weights = digit(1) ? 1 : 0;
    header.vertex_sizes = digit(2);
  }
  const std::string_view ncon = take_field(&rest);
  if (!ncon.empty()) {
    if (header.num_vertex_weights == 0) bad("ncon needs vertex weights in fmt (010 or 011)");
    if (parse_decimal(ncon, kMaxConstraints, &header.num_vertex_weights) != Decimal::kOk ||
        header.num_vertex_weights == 0)
      bad("ncon must be an integer in [1, 1024]");
  }
  if (!take_field(&rest).empty()) bad("more than 4 fields (expected 'n m [fmt [ncon]]')");
  return header;
}

// Skips a size or weight, checking that it is one.
void skip_weight(std::string_view* rest, int64_t vertex, const char* what,
                 const LineReader& lines) {
  const std::string_view field = take_field(rest);
  int64_t ignored = 0;
  check(!field.empty(), "{}:{}: vertex {}: missing its {} (the header's fmt gives one)",
        lines.source(), lines.line_number(), vertex, what);
  check(parse_decimal(field, INT64_MAX, &ignored) == Decimal::kOk,
        "{}:{}: vertex {}: {} '{}' is not a non-negative integer", lines.source(),
        lines.line_number(), vertex, what, excerpt(field));
}

StructureEdges parse_metis_lines(LineReader& lines, const MemoryBudget& budget) {
  std::string_view line;
  bool has_header = false;
  while (!has_header && lines.next(&line)) has_header = !is_comment(line) && !is_blank(line);
  check(has_header, "{}: no header line 'n m [fmt [ncon]]' (the file is empty)", lines.source());
  const Header header = parse_header(line, lines);
  const int64_t n = header.num_vertices;
  budget.check(n, 2 * header.num_edges, "neighbour entries (2m) in the header");

  StructureEdges result;
  result.num_nodes = n;
  int64_t vertex = 0;  // of the last vertex line, from 1
  int64_t num_entries = 0;
  while (lines.next(&line)) {
    if (is_comment(line)) continue;
    if (vertex == n) {
      check(is_blank(line), "{}:{}: more vertex lines than the header's n = {}: '{}'",
            lines.source(), lines.line_number(), n, excerpt(line));
      continue;
    }
    ++vertex;
    if (is_blank(line)) continue;
    std::string_view rest = line;
    if (header.vertex_sizes) skip_weight(&rest, vertex, "vertex size", lines);
    for (int64_t w = 0; w < header.num_vertex_weights; ++w)
      skip_weight(&rest, vertex, "vertex weight", lines);
    for (std::string_view field = take_field(&rest); !field.empty(); field = take_field(&rest)) {
      int64_t neighbour = 0;
      check(parse_decimal(field, n, &neighbour) == Decimal::kOk && neighbour >= 1,
            "{}:{}: vertex {}: neighbour '{}' is not an id in [1, {}]", lines.source(),
            lines.line_number(), vertex, excerpt(field), n);
      if (header.edge_weights) skip_weight(&rest, vertex, "edge weight", lines);
      result.edges.src.push_back(static_cast<int32_t>(neighbour - 1));
      result.edges.dst.push_back(static_cast<int32_t>(vertex - 1));
      budget.check(n, ++num_entries, "neighbour entries read so far");
    }
  }
  check(vertex == n,
        "{}: {} vertex lines, but the header's n = {} (a vertex without neighbours "
        "still needs its blank line)",
        lines.source(), vertex, n);
  check(num_entries == 2 * header.num_edges,
        "{}: {} neighbour entries, but the header's m = {} needs 2m = {} (METIS counts an edge "
        "once and lists it at both ends)",
        lines.source(), num_entries, header.num_edges, 2 * header.num_edges);
  check(num_entries > 0, "{}: no edges (the header's m is 0)", lines.source());
  return result;
}

}  // namespace

StructureEdges parse_metis_graph(std::string_view text, const std::string& source) {
  LineReader lines(text, source);
  return parse_metis_lines(lines, MemoryBudget());
}

Graph read_metis_graph(const std::filesystem::path& path, const LoadOptions& options) {
  return read_structure_only_graph(path, options, {parse_metis_lines, /*lists_both_ends=*/true});
}

}  // namespace edgegnn::graph
