// GraphConv: the interface every message-passing layer implements, so a model
// stacks SAGEConv, GCNConv (and later GATConv) alike.
//
// Layers whose neighbour term is linear, f(x)_i = update(agg_j message(x)_j,
// x_i), also expose message() and update(): layer-wise inference then applies
// message() once to all nodes and aggregates the narrower rows chunk by chunk.
#pragma once

#include <torch/torch.h>

#include "nn/layer_graph.h"

namespace edgegnn::nn {

class GraphConv : public torch::nn::Module {
 public:
  // (num_src or global rows, in) -> (graph.num_dst, out)
  virtual torch::Tensor forward(const torch::Tensor& x, const LayerGraph& graph) = 0;
  // What adjacency the layer expects its LayerGraph to carry.
  virtual Normalization normalization() const = 0;
  virtual Aggregation aggregation() const = 0;
  // The per-node linear map applied before aggregation: (rows, in) -> (rows, out).
  virtual torch::Tensor message(const torch::Tensor& x) = 0;
  // The layer's output from aggregated messages (num_dst, out) and the dst
  // nodes' own input rows (num_dst, in).
  virtual torch::Tensor update(const torch::Tensor& aggregated, const torch::Tensor& x_dst) = 0;
  virtual int64_t in_features() const = 0;
  virtual int64_t out_features() const = 0;
};

}  // namespace edgegnn::nn
