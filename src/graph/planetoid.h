// Reader for the Planetoid citation datasets (Cora, CiteSeer, PubMed) in their
// original form: ind.<name>.{x,y,tx,ty,allx,ally,graph,test.index}, Python 2
// pickles of scipy CSR matrices, numpy arrays and a defaultdict of lists.
//
// The result matches PyG's Planetoid(split='public'): nodes = max(test.index)+1;
// features and labels of allx/ally followed by tx/ty, with test rows placed at
// their test.index ids; train = first L nodes (140/120/60), val = next 500, test
// = the test.index ids; CiteSeer's ids missing from test.index get zero features
// and label -1. The graph is symmetrised and deduplicated; self-loops present in
// the files are kept.
#pragma once

#include <filesystem>
#include <string>

#include "graph/graph.h"

namespace edgegnn::graph {

// Reads dataset `name` ("cora", "citeseer", "pubmed") from `dir`. Throws Error
// naming the file and the problem (missing, corrupt, inconsistent shapes).
Graph read_planetoid(const std::filesystem::path& dir, const std::string& name);

}  // namespace edgegnn::graph
