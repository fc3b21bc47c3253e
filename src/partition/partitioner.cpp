#include "partition/partitioner.h"

#include "core/parallel.h"
#include "core/random.h"
#include "partition/fennel_partition.h"
#include "partition/metis_partition.h"

namespace edgegnn::partition {
namespace {

// Fisher–Yates over the node ids, then consecutive slices of the shuffled order.
std::vector<int32_t> random_partition(int64_t num_nodes, int num_parts, uint64_t seed) {
  // "part": a stream of its own.
  const std::vector<int32_t> order =
      random_permutation(num_nodes, KeyedRandom(seed, /*key1=*/0x70617274));
  std::vector<int32_t> node_part(num_nodes);
  for (int64_t i = 0; i < num_nodes; ++i)
    node_part[order[i]] = static_cast<int32_t>(i * num_parts / num_nodes);
  return node_part;
}

}  // namespace

PartitionMethod parse_partition_method(const std::string& name) {
  if (name == "metis") return PartitionMethod::kMetis;
  if (name == "random") return PartitionMethod::kRandom;
  if (name == "fennel") return PartitionMethod::kFennel;
  fail("--method: unknown partition method '{}' (known: metis, random, fennel)", name);
}

const char* partition_method_name(PartitionMethod method) {
  switch (method) {
    case PartitionMethod::kMetis:
      return "metis";
    case PartitionMethod::kRandom:
      return "random";
    case PartitionMethod::kFennel:
      return "fennel";
  }
  fail("unknown partition method {}", static_cast<int>(method));
}

std::vector<int32_t> partition_nodes(const graph::Graph& g, const PartitionOptions& options) {
  check(options.num_parts >= 1, "--parts: {} parts, expected at least 1", options.num_parts);
  check(options.num_parts <= g.num_nodes, "--parts: {} parts for {} nodes, expected at most {}",
        options.num_parts, g.num_nodes, g.num_nodes);
  check(g.num_sources() == g.num_nodes, "{}: is already one part of a partitioned graph", g.name);
  if (options.num_parts == 1) return std::vector<int32_t>(g.num_nodes, 0);
  if (options.method == PartitionMethod::kRandom)
    return random_partition(g.num_nodes, options.num_parts, options.seed);
  if (options.method == PartitionMethod::kFennel) return fennel_partition(g, options.num_parts);
  const int threads = options.num_threads > 0 ? options.num_threads : available_cores();
  return metis_partition(g, options.num_parts, options.seed, threads);
}

}  // namespace edgegnn::partition
