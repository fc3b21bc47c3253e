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
#include <span>
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

// The named presets: reddit, reddit-mini, products, tiny. Throws Error for
// unknown names, listing the known ones.
const SyntheticPreset& synthetic_preset(const std::string& name);
std::vector<std::string> synthetic_preset_names();

// `preset` shrunk to `factor` in (0, 1] of its nodes, edges and split, keeping
// its mean degree, features and classes: a family of graphs that grow while
// a part of fixed size does not. Named "<name>-x<factor>"; factor 1 gives the
// preset itself. Throws Error naming --scale for a factor outside (0, 1].
SyntheticPreset scaled_preset(const SyntheticPreset& preset, double factor);

struct SyntheticOptions {
  uint64_t seed = 0;
  int num_threads = 0;  // 0 = the cores available
};

Graph generate_synthetic(const SyntheticPreset& preset, const SyntheticOptions& options = {});

// The generator's features, for any labels: row v ([labels.size() x
// num_features], row-major) is the centroid of class labels[v] plus N(0, 1) in
// every dimension; a node labelled -1 gets the noise alone. Centroids are
// random, keyed on (seed, class), and spaced so that a node's own features
// tell its class about 2/3 of the time whatever the class count; the noise is
// keyed on (seed, node), so the result is the same whatever num_threads (0 =
// the cores available).
std::vector<float> class_centroid_features(std::span<const int32_t> labels, int32_t num_classes,
                                           int64_t num_features, uint64_t seed, int num_threads);

}  // namespace edgegnn::graph
