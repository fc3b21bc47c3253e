#include "partition/metis_partition.h"

#include <metis.h>

#include <array>

#include "partition/symmetric_adjacency.h"

namespace edgegnn::partition {
namespace {

static_assert(sizeof(idx_t) == sizeof(int32_t), "edgegnn passes int32 ids to METIS");

const char* metis_status_text(int status) {
  switch (status) {
    case METIS_ERROR_INPUT:
      return "rejected its input";
    case METIS_ERROR_MEMORY:
      return "ran out of memory";
    default:
      return "failed";
  }
}

}  // namespace

std::vector<int32_t> metis_partition(const graph::Graph& g, int num_parts, uint64_t seed,
                                     int num_threads) {
  SymmetricAdjacency adjacency = symmetric_adjacency(g, num_threads);
  const int64_t num_adjacent = static_cast<int64_t>(adjacency.col.size());
  check(num_adjacent < (int64_t{1} << 31),
        "{}: {} symmetrised edges, METIS (32-bit idx_t) takes at most 2^31 - 1", g.name,
        num_adjacent);
  std::vector<idx_t> xadj(adjacency.rowptr.begin(), adjacency.rowptr.end());
  adjacency.rowptr = {};

  // Node weights, row-major [node][constraint]: a constraint whose total is 0
  // is dropped rather than handed to METIS.
  const std::array<bool, 3> keep = {true, g.num_edges() > 0, graph::count_mask(g.train_mask) > 0};
  idx_t num_constraints = 0;
  for (bool k : keep) num_constraints += k;
  std::vector<idx_t> weights(g.num_nodes * num_constraints);
  for (int64_t v = 0; v < g.num_nodes; ++v) {
    idx_t* w = weights.data() + v * num_constraints;
    *w++ = 1;
    if (keep[1]) *w++ = static_cast<idx_t>(g.in_degree(v));
    if (keep[2]) *w++ = g.train_mask[v];
  }

  idx_t options[METIS_NOPTIONS];
  METIS_SetDefaultOptions(options);
  options[METIS_OPTION_NUMBERING] = 0;
  options[METIS_OPTION_SEED] = static_cast<idx_t>(seed & 0x7fffffff);
  idx_t num_nodes = static_cast<idx_t>(g.num_nodes);
  idx_t parts = num_parts;
  idx_t edge_cut = 0;
  std::vector<idx_t> node_part(g.num_nodes);
  int status = METIS_PartGraphKway(&num_nodes, &num_constraints, xadj.data(), adjacency.col.data(),
                                   weights.data(), /*vsize=*/nullptr,
                                   /*adjwgt=*/nullptr, &parts, /*tpwgts=*/nullptr,
                                   /*ubvec=*/nullptr, options, &edge_cut, node_part.data());
  check(status == METIS_OK,
        "{}: METIS {} partitioning {} nodes, {} symmetrised edges into {} parts", g.name,
        metis_status_text(status), g.num_nodes, num_adjacent, num_parts);
  return node_part;
}

}  // namespace edgegnn::partition
