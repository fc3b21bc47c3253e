// Synthetic Reddit-shaped graphs: a degree-corrected stochastic block model with
// power-law expected degrees and float32 features drawn around per-class
// centroids, so that a 2-layer GraphSAGE learns it well but not trivially (a
// linear model on features alone scores clearly lower: the neighbourhood carries
// signal the features alone do not).
//
// Deterministic for a seed whatever the thread count: every random draw is keyed
// on (seed, node) or (seed, block of edges), never on the thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace edgegnn::graph {

struct SyntheticPreset {
  std::string name;
  int64_t num_nodes;
  int64_t num_directed_edges;  // target after symmetrisation and deduplication
  int64_t num_features;
  int32_t num_classes;
  int64_t num_train, num_val, num_test;
};

// The named presets: reddit, reddit-mini, tiny. Throws Error for unknown names,
// listing the known ones.
const SyntheticPreset& synthetic_preset(const std::string& name);
std::vector<std::string> synthetic_preset_names();

struct SyntheticOptions {
  uint64_t seed = 0;
  int num_threads = 0;  // 0 = the cores available
};

Graph generate_synthetic(const SyntheticPreset& preset, const SyntheticOptions& options = {});

}  // namespace edgegnn::graph
