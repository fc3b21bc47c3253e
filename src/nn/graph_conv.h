// GraphConv: the interface every message-passing layer implements, so a model
// stacks SAGEConv, GCNConv (and later GATConv) alike.
//
// Every layer here is update(aggregate_j message(x_j), root(x_i)) with linear
// message() and root(): layer-wise inference uses that to apply them once per
// node and aggregate the narrower rows chunk by chunk.
#pragma once

#include <torch/torch.h>

#include "nn/layer_graph.h"

namespace edgegnn::nn {

class GraphConv : public torch::nn::Module {
 public:
  // (num_src or global rows, in) -> (graph.num_dst, out); x may be the
  // compressed feature matrix (first layer).
  virtual torch::Tensor forward(const FeatureMatrix& x, const LayerGraph& graph) = 0;
  // What adjacency the layer expects its LayerGraph to carry.
  virtual Normalization normalization() const = 0;
  virtual Aggregation aggregation() const = 0;
  // The per-node linear map applied before aggregation: (rows, in) -> (rows, out).
  virtual torch::Tensor message(const torch::Tensor& x) = 0;
  // The per-node linear map of a node's own row: (rows, in) -> (rows, out), or
  // an undefined tensor for layers without a root term.
  virtual torch::Tensor root(const torch::Tensor& x) = 0;
  // The layer's output from aggregated messages (num_dst, out) and the root
  // term of the dst rows (as root() returns it).
  virtual torch::Tensor update(const torch::Tensor& aggregated, const torch::Tensor& root_term) = 0;
  virtual int64_t in_features() const = 0;
  virtual int64_t out_features() const = 0;
};

}  // namespace edgegnn::nn
