#include "graph/graph.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/parallel.h"

namespace edgegnn::graph {
void release_pages(const void* begin, size_t bytes) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto address = reinterpret_cast<uintptr_t>(begin);
  const uintptr_t first = (address + page - 1) / page * page;
  const uintptr_t last = (address + bytes) / page * page;
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

size_t Graph::memory_bytes() const {
  return rowptr.memory_bytes() + col.memory_bytes() + features.memory_bytes() +
         labels.memory_bytes() + train_mask.memory_bytes() + val_mask.memory_bytes() +
         test_mask.memory_bytes() + global_ids.memory_bytes() + packed_features.memory_bytes();
}

void keep_only(Graph& g, const GraphParts& parts) {
  if (!parts.structure) {
    g.rowptr = Buffer<int64_t>();
    g.col = Buffer<int32_t>();
    g.has_structure = false;
  }
  if (!parts.features) {
    g.features = Buffer<float>();
    g.packed_features = PackedFeatures();
    g.has_features = false;
  }
}

void Graph::validate(const std::string& source) const {
  check(num_nodes >= 0 && num_nodes < (int64_t{1} << 31),
        "{}: node count {} out of range [0, 2^31)", source, num_nodes);
  check(num_features >= 0, "{}: negative feature count {}", source, num_features);
  if (has_structure) validate_structure(source);
  if (has_features && packed_features.empty())
    check(features.size() == static_cast<size_t>(num_nodes * num_features),
          "{}: features have {} values, expected {} x {}", source, features.size(), num_nodes,
          num_features);
  check(num_classes >= 0, "{}: negative class count {}", source, num_classes);
  validate_global_ids(source);
  check(labels.size() == static_cast<size_t>(num_nodes), "{}: {} labels for {} nodes", source,
        labels.size(), num_nodes);
  for (size_t v = 0; v < labels.size(); ++v)
    check(labels[v] >= -1 && labels[v] < num_classes,
          "{}: label {} of node {} out of range [0, {})", source, labels[v], v, num_classes);
  for (const auto* mask : {&train_mask, &val_mask, &test_mask}) {
    check(mask->size() == static_cast<size_t>(num_nodes), "{}: split mask has {} entries for {} nodes",
          source, mask->size(), num_nodes);
    for (uint8_t m : *mask) check(m <= 1, "{}: split mask value {} is not 0 or 1", source, m);
  }
}

void Graph::validate_structure(const std::string& source) const {
  check(rowptr.size() == static_cast<size_t>(num_nodes + 1),
        "{}: rowptr has {} entries, expected num_nodes + 1 = {}", source, rowptr.size(),
        num_nodes + 1);
  check(rowptr[0] == 0, "{}: rowptr[0] is {}, expected 0", source, rowptr[0]);
  check(rowptr[num_nodes] == num_edges(), "{}: rowptr ends at {}, but col has {} entries",
        source, rowptr[num_nodes], num_edges());
  for (int64_t v = 0; v < num_nodes; ++v)
    check(rowptr[v] <= rowptr[v + 1], "{}: rowptr decreases at node {}", source, v);
  const int64_t sources = num_sources();
  for (int32_t u : col)
    check(u >= 0 && u < sources, "{}: edge source {} out of range [0, {})", source, u, sources);
}

void Graph::validate_global_ids(const std::string& source) const {
  const int64_t sources = num_sources();
  check(sources >= num_nodes && sources < (int64_t{1} << 31),
        "{}: source node count {} out of range [{}, 2^31)", source, sources, num_nodes);
  // A part with no rows has no global ids either; any other part lists them all.
  if (global_ids.empty() && num_nodes > 0) {
    check(sources == num_nodes, "{}: a part of a {}-node graph without global ids", source,
          sources);
    return;
  }
  check(global_ids.size() == static_cast<size_t>(num_nodes), "{}: {} global ids for {} nodes",
        source, global_ids.size(), num_nodes);
  for (size_t v = 0; v < global_ids.size(); ++v) {
    check(global_ids[v] >= 0 && global_ids[v] < sources,
          "{}: global id {} of row {} out of range [0, {})", source, global_ids[v], v, sources);
    check(v == 0 || global_ids[v - 1] < global_ids[v],
          "{}: global ids not ascending at row {} ({} after {})", source, v, global_ids[v],
          global_ids[v - 1]);
  }
}

Graph make_graph(GraphArrays arrays, const std::string& source) {
  Graph g;
  g.name = std::move(arrays.name);
  g.num_nodes = static_cast<int64_t>(arrays.rowptr.size()) - 1;
  g.num_features = arrays.num_features;
  g.num_classes = arrays.num_classes;
  g.rowptr = Buffer(std::move(arrays.rowptr));
  g.col = Buffer(std::move(arrays.col));
  g.features = Buffer(std::move(arrays.features));
  g.labels = Buffer(std::move(arrays.labels));
  g.train_mask = Buffer(std::move(arrays.train_mask));
  g.val_mask = Buffer(std::move(arrays.val_mask));
  g.test_mask = Buffer(std::move(arrays.test_mask));
  g.validate(source);
  return g;
}

std::pair<std::vector<int64_t>, std::vector<int32_t>> build_in_csr(
    int64_t num_nodes, const EdgeList& edges, const CsrOptions& options,
    const std::string& source) {
  check(edges.src.size() == edges.dst.size(), "{}: {} edge sources but {} targets", source,
        edges.src.size(), edges.dst.size());
  const size_t m = edges.src.size();
  for (size_t i = 0; i < m; ++i)
    check(edges.src[i] >= 0 && edges.src[i] < num_nodes && edges.dst[i] >= 0 &&
              edges.dst[i] < num_nodes,
          "{}: edge {} -> {} has a node id out of range [0, {})", source, edges.src[i],
          edges.dst[i], num_nodes);

  // Counting sort by destination, then sort + unique inside each row.
  std::vector<int64_t> rowptr(num_nodes + 1, 0);
  auto keep = [&](int32_t u, int32_t v) { return options.keep_self_loops || u != v; };
  for (size_t i = 0; i < m; ++i) {
    if (!keep(edges.src[i], edges.dst[i])) continue;
    ++rowptr[edges.dst[i] + 1];
    if (options.symmetrize) ++rowptr[edges.src[i] + 1];
  }
  for (int64_t v = 0; v < num_nodes; ++v) rowptr[v + 1] += rowptr[v];
  std::vector<int32_t> col(rowptr[num_nodes]);
  std::vector<int64_t> fill(rowptr.begin(), rowptr.end() - 1);
  for (size_t i = 0; i < m; ++i) {
    int32_t u = edges.src[i], v = edges.dst[i];
    if (!keep(u, v)) continue;
    col[fill[v]++] = u;
    if (options.symmetrize) col[fill[u]++] = v;
  }

  std::vector<int64_t> unique_count(num_nodes);
  parallel_for(num_nodes, available_cores(), [&](int64_t begin, int64_t end, int) {
    for (int64_t v = begin; v < end; ++v) {
      auto first = col.begin() + rowptr[v], last = col.begin() + rowptr[v + 1];
      std::sort(first, last);
      unique_count[v] = std::unique(first, last) - first;
    }
  });
  int64_t out = 0;
  for (int64_t v = 0; v < num_nodes; ++v) {
    int64_t begin = rowptr[v];
    rowptr[v] = out;
    std::copy(col.begin() + begin, col.begin() + begin + unique_count[v], col.begin() + out);
    out += unique_count[v];
  }
  rowptr[num_nodes] = out;
  col.resize(out);
  col.shrink_to_fit();
  return {std::move(rowptr), std::move(col)};
}

void row_normalize_features(Graph& g) {
  std::vector<float> normalized(g.features.begin(), g.features.end());
  // The smallest finite value: a NaN (counted and reported at load) spoils its own row only.
  float lowest = std::numeric_limits<float>::infinity();
  for (float x : normalized)
    if (std::isfinite(x)) lowest = std::min(lowest, x);
  if (!std::isfinite(lowest)) lowest = 0;
  parallel_for(g.num_nodes, available_cores(), [&](int64_t begin, int64_t end, int) {
    for (int64_t v = begin; v < end; ++v) {
      float* row = normalized.data() + v * g.num_features;
      double sum = 0;
      for (int64_t f = 0; f < g.num_features; ++f) sum += row[f] -= lowest;
      const double divisor = std::max(sum, 1.0);
      for (int64_t f = 0; f < g.num_features; ++f) row[f] = static_cast<float>(row[f] / divisor);
    }
  });
  g.features = Buffer(std::move(normalized));
}

int64_t count_non_finite(const Buffer<float>& values, int num_threads) {
  // Pieces of 4 MiB: one thread per piece at most, and a mapped matrix hands
  // each piece's pages back once counted, so that counting never makes the
  // whole file resident (a device holding the features compressed, or reading
  // few rows, would otherwise peak with all of them).
  constexpr int64_t kPieceValues = (int64_t{4} << 20) / sizeof(float);
  const auto n = static_cast<int64_t>(values.size());
  const int64_t num_pieces = (n + kPieceValues - 1) / kPieceValues;
  num_threads = static_cast<int>(
      std::min<int64_t>(num_threads > 0 ? num_threads : available_cores(), num_pieces));
  std::vector<int64_t> counts(std::max(num_threads, 1), 0);
  parallel_for(num_pieces, num_threads, [&](int64_t begin, int64_t end, int chunk) {
    for (int64_t piece = begin; piece < end; ++piece) {
      const float* first = values.data() + piece * kPieceValues;
      const int64_t size = std::min(kPieceValues, n - piece * kPieceValues);
      int64_t count = 0;
      for (int64_t i = 0; i < size; ++i) count += !std::isfinite(first[i]);
      counts[chunk] += count;
      if (values.is_mapped()) release_pages(first, size * sizeof(float));
    }
  });
  return std::accumulate(counts.begin(), counts.end(), int64_t{0});
}

int64_t count_mask(const Buffer<uint8_t>& mask) {
  int64_t n = 0;
  for (uint8_t m : mask) n += m;
  return n;
}

}  // namespace edgegnn::graph
