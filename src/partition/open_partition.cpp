#include "partition/open_partition.h"

namespace edgegnn::partition {
namespace {

namespace fs = std::filesystem;

void check_dataset(const PartitionBook& book, const ExpectedDataset& expected,
                   const fs::path& dir) {
  const DatasetCounts& d = book.dataset;
  check(expected.name.empty() || expected.name == d.name,
        "partition {} was made from dataset '{}', but the run uses '{}'", dir.string(), d.name,
        expected.name);
  auto check_count = [&](int64_t expected_count, int64_t count, const char* what) {
    check(expected_count < 0 || expected_count == count,
          "partition {} was made from a graph of {} {}, but the run's dataset has {}", dir.string(),
          count, what, expected_count);
  };
  check_count(expected.num_nodes, d.num_nodes, "nodes");
  check_count(expected.num_edges, d.num_edges, "edges");
  check_count(expected.num_features, d.num_features, "features");
}

// The part's counts agree with the book and its rows are the book's range for
// it: catches a part copied from another partition.
void check_part_matches_book(const graph::Graph& g, const PartitionBook& book, int part,
                             const fs::path& part_dir, const fs::path& dir) {
  const PartStats& stats = book.summary.parts[part];
  check(g.name == book.dataset.name && g.num_sources() == book.dataset.num_nodes &&
            g.num_nodes == stats.num_nodes && g.num_features == book.dataset.num_features &&
            (!g.has_structure || g.num_edges() == stats.num_edges),
        "{}: not part {} of partition {} ({} with {} of {} nodes; the book expects {} with {} of "
        "{})",
        part_dir.string(), part, dir.string(), g.name, g.num_nodes, g.num_sources(),
        book.dataset.name, stats.num_nodes, book.dataset.num_nodes);
  const int64_t first = book.offsets[part];
  for (int64_t i = 0; i < g.num_nodes; ++i)
    check(g.global_id(i) == first + i,
          "{}: not part {} of partition {} (its row {} is node {}, the book's is {})",
          part_dir.string(), part, dir.string(), i, g.global_id(i), first + i);
}

}  // namespace

Partition open_partition(const fs::path& dir, const PartitionOpenOptions& options) {
  Partition p;
  p.part = options.part;
  p.book = open_partition_book(dir);
  check(options.num_ranks <= 0 || options.num_ranks == p.book.num_parts,
        "partition {} has {} parts but the run has {} ranks", dir.string(), p.book.num_parts,
        options.num_ranks);
  check(options.part >= 0 && options.part < p.book.num_parts,
        "partition {} has {} parts, so there is no part {}", dir.string(), p.book.num_parts,
        options.part);
  check_dataset(p.book, options.expected, dir);
  const fs::path part_dir = part_directory(dir, options.part);
  check(fs::is_directory(part_dir), "{}: missing (part {} of partition {}, which has {} parts)",
        part_dir.string(), options.part, dir.string(), p.book.num_parts);
  p.graph = graph::open_binary_graph(part_dir, options.graph);
  check_part_matches_book(p.graph, p.book, options.part, part_dir, dir);
  return p;
}

}  // namespace edgegnn::partition
