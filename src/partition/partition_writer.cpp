#include "partition/partition_writer.h"

#include <algorithm>
#include <numeric>

#include "core/parallel.h"
#include "graph/binary_format.h"
#include "partition/symmetric_adjacency.h"

namespace edgegnn::partition {
namespace {

namespace fs = std::filesystem;

uint64_t directory_bytes(const fs::path& dir) {
  uint64_t bytes = 0;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file()) bytes += entry.file_size();
  return bytes;
}

// Part `part` of g: the rows of `owned` (ascending original ids, so ascending
// new ids) with all their arrays, sources relabelled by `new_ids`; `stats`
// gets its counts. halo_mark[u] == part + 1 once u is counted in this part's
// halo: parts are built in order, so no older mark matches.
graph::Graph build_part(const graph::Graph& g, std::span<const int32_t> node_part,
                        std::span<const int32_t> new_ids, int64_t first_id,
                        std::vector<int32_t> owned, int part, int num_threads,
                        std::vector<int32_t>& halo_mark, PartStats& stats) {
  const auto n = static_cast<int64_t>(owned.size());
  const int64_t f = g.num_features;
  std::vector<int64_t> rowptr(n + 1, 0);
  for (int64_t i = 0; i < n; ++i) rowptr[i + 1] = rowptr[i] + g.in_degree(owned[i]);
  std::vector<int32_t> col(rowptr[n]);
  std::vector<float> features(n * f);
  std::vector<int32_t> labels(n);
  std::vector<uint8_t> train(n), val(n), test(n);
  parallel_for(n, num_threads, [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) {
      const int32_t v = owned[i];
      // Relabelled sources are sorted again: a Graph's rows are ascending.
      int32_t* const first = col.data() + rowptr[i];
      int32_t* last = first;
      for (int32_t u : g.in_neighbors(v)) *last++ = new_ids[u];
      std::sort(first, last);
      auto row = g.feature_row(v);
      std::copy(row.begin(), row.end(), features.begin() + i * f);
      labels[i] = g.labels[v];
      train[i] = g.train_mask[v];
      val[i] = g.val_mask[v];
      test[i] = g.test_mask[v];
    }
  });

  stats.num_nodes = n;
  stats.num_edges = rowptr[n];
  stats.num_train = std::count(train.begin(), train.end(), 1);
  stats.num_halo = 0;
  stats.num_remote_edges = 0;
  for (int32_t v : owned) {
    for (int32_t u : g.in_neighbors(v)) {
      if (node_part[u] == part) continue;
      ++stats.num_remote_edges;
      if (halo_mark[u] == part + 1) continue;
      halo_mark[u] = part + 1;
      ++stats.num_halo;
    }
  }
  std::vector<int32_t> global_ids(n);
  std::iota(global_ids.begin(), global_ids.end(), static_cast<int32_t>(first_id));

  graph::Graph p;
  p.name = g.name;
  p.num_nodes = n;
  p.num_features = f;
  p.num_classes = g.num_classes;
  p.num_source_nodes = g.num_nodes;
  p.rowptr = graph::Buffer(std::move(rowptr));
  p.col = graph::Buffer(std::move(col));
  p.features = graph::Buffer(std::move(features));
  p.labels = graph::Buffer(std::move(labels));
  p.train_mask = graph::Buffer(std::move(train));
  p.val_mask = graph::Buffer(std::move(val));
  p.test_mask = graph::Buffer(std::move(test));
  p.global_ids = graph::Buffer(std::move(global_ids));
  return p;
}

}  // namespace

std::vector<int32_t> range_ids(std::span<const int32_t> node_part, int num_parts) {
  std::vector<int64_t> next(num_parts + 1, 0);
  for (int32_t p : node_part) ++next[p + 1];
  for (int k = 0; k < num_parts; ++k) next[k + 1] += next[k];
  std::vector<int32_t> ids(node_part.size());
  for (size_t v = 0; v < node_part.size(); ++v) ids[v] = static_cast<int32_t>(next[node_part[v]]++);
  return ids;
}

PartitionBook write_partition(const graph::Graph& g, std::span<const int32_t> node_part,
                              const fs::path& dir, const PartitionWriteOptions& options) {
  check(g.has_structure && g.has_features, "{}: partitioning needs the structure and features",
        g.name);
  check(g.num_sources() == g.num_nodes, "{}: is already one part of a partitioned graph", g.name);
  check(node_part.size() == static_cast<size_t>(g.num_nodes), "{}: {} part ids for {} nodes",
        g.name, node_part.size(), g.num_nodes);
  const int num_parts = options.num_parts;
  check(num_parts >= 1, "--parts: {} parts, expected at least 1", num_parts);
  for (int64_t v = 0; v < g.num_nodes; ++v)
    check(node_part[v] >= 0 && node_part[v] < num_parts, "{}: node {} assigned to part {} of {}",
          g.name, v, node_part[v], num_parts);
  const std::vector<int32_t> new_ids = range_ids(node_part, num_parts);
  std::error_code ec;
  fs::create_directories(dir, ec);
  check(!ec, "{}: cannot create directory: {}", dir.string(), ec.message());
  fs::remove(dir / "partition.json", ec);
  check(!ec, "{}: cannot remove the old partition.json: {}", dir.string(), ec.message());
  // A version-1 book's per-node arrays, which nothing reads any more.
  for (const char* stale : {"node_part.i32", "node_local.i32"}) fs::remove(dir / stale, ec);

  const int threads = options.num_threads > 0 ? options.num_threads : available_cores();
  PartitionBook book;
  book.dataset = {g.name, g.num_nodes, g.num_edges(), g.num_features, g.num_classes};
  book.num_parts = num_parts;
  book.method = options.method;
  book.seed = options.seed;
  book.summary.parts.resize(num_parts);
  book.offsets.assign(num_parts + 1, 0);
  for (int32_t p : node_part) ++book.offsets[p + 1];
  for (int k = 0; k < num_parts; ++k) book.offsets[k + 1] += book.offsets[k];
  const UndirectedCut cut = count_undirected_cut(g, node_part, threads);
  book.summary.num_undirected_edges = cut.num_edges;
  book.summary.num_cut_edges = cut.num_cut;

  std::vector<int32_t> halo_mark(g.num_nodes, 0);
  for (int part = 0; part < num_parts; ++part) {
    if (options.on_part) options.on_part(part);
    std::vector<int32_t> owned;
    owned.reserve(book.offsets[part + 1] - book.offsets[part]);
    for (int64_t v = 0; v < g.num_nodes; ++v)
      if (node_part[v] == part) owned.push_back(static_cast<int32_t>(v));
    PartStats& stats = book.summary.parts[part];
    graph::Graph p = build_part(g, node_part, new_ids, book.offsets[part], std::move(owned), part,
                                threads, halo_mark, stats);
    book.summary.num_cut_in_edges += stats.num_remote_edges;
    const fs::path part_dir = part_directory(dir, part);
    p.validate(part_dir.string());
    graph::write_binary_graph(p, part_dir);
    stats.bytes = directory_bytes(part_dir);
  }
  write_partition_book(book, dir);
  return book;
}

}  // namespace edgegnn::partition
