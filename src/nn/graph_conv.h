// GraphConv: the interface every message-passing layer implements, so a model
// stacks SAGEConv, GCNConv (and later GATConv) alike.
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
};

}  // namespace edgegnn::nn
