// metis_partition: the METIS kernel behind partition_nodes (partitioner.h), which
// checks the arguments first.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/graph.h"

namespace edgegnn::partition {

// METIS_PartGraphKway on g symmetrised, balancing nodes, in-degrees and training
// nodes (a weight whose total is 0, e.g. no training nodes, is left out: METIS
// cannot balance it). Needs 2 <= num_parts <= g.num_nodes.
std::vector<int32_t> metis_partition(const graph::Graph& g, int num_parts, uint64_t seed,
                                     int num_threads);

}  // namespace edgegnn::partition
