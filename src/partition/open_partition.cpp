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

graph::Graph join_parts(const fs::path& dir) {
  const PartitionBook book = open_partition_book(dir);
  graph::Graph whole;
  whole.name = book.dataset.name;
  whole.num_nodes = book.dataset.num_nodes;
  whole.num_features = book.dataset.num_features;
  whole.num_classes = static_cast<int32_t>(book.dataset.num_classes);
  whole.has_features = false;
  std::vector<int64_t> rowptr{0};
  std::vector<int32_t> col, labels;
  std::vector<uint8_t> train, val, test;
  rowptr.reserve(whole.num_nodes + 1);
  col.reserve(book.dataset.num_edges);
  for (int k = 0; k < book.num_parts; ++k) {
    PartitionOpenOptions options;
    options.part = k;
    options.graph.parts.features = false;
    const graph::Graph part = open_partition(dir, options).graph;
    // Parts own consecutive id ranges in order: their rows follow each other.
    for (int64_t v = 1; v <= part.num_nodes; ++v)
      rowptr.push_back(static_cast<int64_t>(col.size()) + part.rowptr[v]);
    col.insert(col.end(), part.col.span().begin(), part.col.span().end());
    labels.insert(labels.end(), part.labels.span().begin(), part.labels.span().end());
    train.insert(train.end(), part.train_mask.span().begin(), part.train_mask.span().end());
    val.insert(val.end(), part.val_mask.span().begin(), part.val_mask.span().end());
    test.insert(test.end(), part.test_mask.span().begin(), part.test_mask.span().end());
  }
  check(static_cast<int64_t>(rowptr.size()) == whole.num_nodes + 1,
        "partition {}: its parts hold {} nodes, its book {}", dir.string(), rowptr.size() - 1,
        whole.num_nodes);
  whole.rowptr = graph::Buffer<int64_t>(std::move(rowptr));
  whole.col = graph::Buffer<int32_t>(std::move(col));
  whole.labels = graph::Buffer<int32_t>(std::move(labels));
  whole.train_mask = graph::Buffer<uint8_t>(std::move(train));
  whole.val_mask = graph::Buffer<uint8_t>(std::move(val));
  whole.test_mask = graph::Buffer<uint8_t>(std::move(test));
  return whole;
}

}  // namespace edgegnn::partition
