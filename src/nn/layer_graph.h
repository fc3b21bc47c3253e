// LayerGraph: what one GNN layer reads, as tensors — the adjacency from its dst
// rows to the rows of its input, and where its dst nodes' own rows are.
//
// Two input modes:
//  - local: the input holds exactly the block's src rows (dst first), as for
//    every layer after the first; dst rows are the first num_dst rows.
//  - global: the input is the whole feature matrix (or a whole layer's output in
//    layer-wise inference) and columns are global node ids, so the first layer
//    never materialises the gathered input of all sampled nodes (135 K x 602
//    floats per Reddit batch); only the dst rows are gathered.
//
// A layer that transforms every source row (GAT) reads a sampled block's
// sources gathered, not global: `src_rows` names the dst nodes, then the
// other sources its edges read, and the columns index them.
//
// For GAT the adjacency carries self-loops (given ones dropped, one added per
// row), unweighted. For GCN it also carries self-loops and D^-1/2 (A+I) D^-1/2 weights,
// with degrees from the full graph (existing self-loops counted once, as PyG's
// add_remaining_self_loops does), so sampled training and full-neighbour
// inference normalise alike.
#pragma once

#include <cstdint>
#include <span>

#include <torch/torch.h>

#include "graph/graph.h"
#include "nn/csr_aggregate.h"
#include "nn/feature_matrix.h"
#include "sample/block.h"

namespace edgegnn::nn {

// The adjacency a layer reads: as sampled, GCN's normalised with self-loops,
// or with self-loops alone (GAT).
enum class Normalization { kNone, kGcn, kSelfLoops };

struct LayerGraph {
  CsrAdjacency adjacency;
  int64_t num_dst = 0;
  // Rows of the input holding the dst nodes: `dst_rows` (int64) when defined,
  // else the num_dst rows from `dst_begin` on.
  torch::Tensor dst_rows;
  int64_t dst_begin = 0;
  // When defined (int64): the columns index these rows of the input, the
  // first num_dst of them the dst nodes.
  torch::Tensor src_rows;

  // The dst rows of `x`, widened to float32 if compressed.
  torch::Tensor dst_input(const FeatureMatrix& x) const {
    return dst_rows.defined() ? x.rows(dst_rows) : x.rows(dst_begin, num_dst);
  }
};

// The layer graph of a sampled block. `global_input`: columns become global ids
// (gathered sources for kSelfLoops, see above).
// Otherwise columns are the block's local src indices, and the dst rows are
// the first num_dst rows of the input, unless `dst_input_rows` gives the input
// row of each dst node (an input laid out otherwise, e.g. gathered from
// several micro-batches).
LayerGraph block_layer_graph(const sample::Block& block, bool global_input,
                             Normalization normalization, const graph::Graph& graph,
                             std::span<const int32_t> dst_input_rows = {});

// Points a local-input layer graph at an input laid out otherwise: src i of
// its block is row input_rows[i] of the input (partition training's first
// layer, reading rows where the feature fetcher left them). For kSelfLoops,
// the sources are gathered from there (src_rows) instead.
void relocate_input(LayerGraph& graph, std::span<const int32_t> input_rows,
                    Normalization normalization);

// Full neighbourhoods of nodes [begin, end) of `graph`, global input (for
// full-batch training and layer-wise inference).
LayerGraph full_layer_graph(const graph::Graph& graph, int64_t begin, int64_t end,
                            Normalization normalization);

}  // namespace edgegnn::nn
