#include "partition/symmetric_adjacency.h"

#include "core/parallel.h"

namespace edgegnn::partition {
namespace {

// Out-edges without self-loops: rows come out ascending because targets are
// visited in ascending order.
SymmetricAdjacency transpose_without_self_loops(const graph::Graph& g) {
  SymmetricAdjacency out;
  out.rowptr.assign(g.num_nodes + 1, 0);
  for (int64_t v = 0; v < g.num_nodes; ++v)
    for (int32_t u : g.in_neighbors(v))
      if (u != v) ++out.rowptr[u + 1];
  for (int64_t u = 0; u < g.num_nodes; ++u) out.rowptr[u + 1] += out.rowptr[u];
  out.col.resize(out.rowptr[g.num_nodes]);
  std::vector<int64_t> fill(out.rowptr.begin(), out.rowptr.end() - 1);
  for (int64_t v = 0; v < g.num_nodes; ++v)
    for (int32_t u : g.in_neighbors(v))
      if (u != v) out.col[fill[u]++] = static_cast<int32_t>(v);
  return out;
}

// Calls emit(w) for each node of the sorted union of `in` and `out` except v.
template <typename Emit>
void merge_neighbours(std::span<const int32_t> in, std::span<const int32_t> out, int64_t v,
                      Emit&& emit) {
  size_t i = 0, j = 0;
  while (i < in.size() || j < out.size()) {
    int32_t w;
    if (j == out.size() || (i < in.size() && in[i] < out[j])) {
      w = in[i++];
    } else if (i == in.size() || out[j] < in[i]) {
      w = out[j++];
    } else {
      w = in[i++];
      ++j;
    }
    if (w != v) emit(w);
  }
}

void check_mergeable(const graph::Graph& g) {
  check(g.has_structure, "{}: symmetrising needs the graph's structure", g.name);
  check(g.num_sources() == g.num_nodes, "{}: cannot symmetrise a part of a partitioned graph",
        g.name);
  for (int64_t v = 0; v < g.num_nodes; ++v) {
    auto in = g.in_neighbors(v);
    for (size_t i = 1; i < in.size(); ++i)
      check(in[i - 1] < in[i], "{}: in-neighbours of node {} are not sorted and unique", g.name, v);
  }
}

std::span<const int32_t> row(const SymmetricAdjacency& a, int64_t v) {
  return std::span<const int32_t>(a.col).subspan(a.rowptr[v], a.rowptr[v + 1] - a.rowptr[v]);
}

}  // namespace

SymmetricAdjacency symmetric_adjacency(const graph::Graph& g, int num_threads) {
  check_mergeable(g);
  const SymmetricAdjacency out_edges = transpose_without_self_loops(g);
  auto out_neighbours = [&](int64_t v) { return row(out_edges, v); };

  // Two passes over the same merge: count each row, then fill it.
  SymmetricAdjacency sym;
  sym.rowptr.assign(g.num_nodes + 1, 0);
  parallel_for(g.num_nodes, num_threads, [&](int64_t begin, int64_t end, int) {
    for (int64_t v = begin; v < end; ++v) {
      int64_t count = 0;
      merge_neighbours(g.in_neighbors(v), out_neighbours(v), v, [&](int32_t) { ++count; });
      sym.rowptr[v + 1] = count;
    }
  });
  for (int64_t v = 0; v < g.num_nodes; ++v) sym.rowptr[v + 1] += sym.rowptr[v];
  sym.col.resize(sym.rowptr[g.num_nodes]);
  parallel_for(g.num_nodes, num_threads, [&](int64_t begin, int64_t end, int) {
    for (int64_t v = begin; v < end; ++v) {
      int32_t* next = sym.col.data() + sym.rowptr[v];
      merge_neighbours(g.in_neighbors(v), out_neighbours(v), v, [&](int32_t w) { *next++ = w; });
    }
  });
  return sym;
}

UndirectedCut count_undirected_cut(const graph::Graph& g, std::span<const int32_t> node_part,
                                   int num_threads) {
  check_mergeable(g);
  check(node_part.size() == static_cast<size_t>(g.num_nodes), "{}: {} part ids for {} nodes",
        g.name, node_part.size(), g.num_nodes);
  const SymmetricAdjacency out_edges = transpose_without_self_loops(g);
  std::vector<UndirectedCut> per_chunk(std::max(num_threads, 1));
  parallel_for(g.num_nodes, num_threads, [&](int64_t begin, int64_t end, int chunk) {
    UndirectedCut counts;
    for (int64_t v = begin; v < end; ++v) {
      // Each edge {v, w} is met from both ends; count it from the smaller.
      merge_neighbours(g.in_neighbors(v), row(out_edges, v), v, [&](int32_t w) {
        if (w < v) return;
        ++counts.num_edges;
        counts.num_cut += node_part[w] != node_part[v];
      });
    }
    per_chunk[chunk] = counts;
  });
  UndirectedCut total;
  for (const UndirectedCut& c : per_chunk) {
    total.num_edges += c.num_edges;
    total.num_cut += c.num_cut;
  }
  return total;
}

}  // namespace edgegnn::partition
