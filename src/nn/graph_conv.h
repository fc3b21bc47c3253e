// GraphConv: the interface every message-passing layer implements, so a model
// stacks SAGEConv, GCNConv and GATConv alike.
//
// Every layer here is update(aggregate(message(x)), root(x_i)) with per-node
// message() and root(): layer-wise inference uses that to apply them once per
// node and aggregate the narrower rows chunk by chunk.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "nn/layer_graph.h"

namespace edgegnn::nn {

class GraphConv : public torch::nn::Module {
 public:
  // (num_src or global rows, in) -> (graph.num_dst, out); x may be the
  // compressed feature matrix (first layer).
  virtual torch::Tensor forward(const FeatureMatrix& x, const LayerGraph& graph) = 0;
  // Whether forward() multiplies an input's nonzeros where it carries them
  // (FeatureMatrix::nonzeros) and takes an input of nonzeros alone.
  virtual bool reads_nonzeros() const { return false; }
  // What adjacency the layer expects its LayerGraph to carry.
  virtual Normalization normalization() const = 0;
  // Whether aggregation needs every source row transformed (attention does),
  // so layer-wise inference always aggregates messages, never raw inputs.
  virtual bool transforms_every_source() const { return false; }
  // The per-node map applied before aggregation: (rows, in) -> (rows, out) for
  // SAGE and GCN, wider where aggregation needs more per node (GAT's scores).
  virtual torch::Tensor message(const torch::Tensor& x) = 0;
  // Messages (the input's rows, as message() gives them) aggregated per dst
  // row of `graph`: (graph.num_dst, out) before update().
  virtual torch::Tensor aggregate(const torch::Tensor& messages, const LayerGraph& graph) = 0;
  // The per-node linear map of a node's own row: (rows, in) -> (rows, out), or
  // an undefined tensor for layers without a root term.
  virtual torch::Tensor root(const torch::Tensor& x) = 0;
  // The layer's output from aggregated messages (num_dst, out) and the root
  // term of the dst rows (as root() returns it).
  virtual torch::Tensor update(const torch::Tensor& aggregated, const torch::Tensor& root_term) = 0;
  virtual int64_t in_features() const = 0;
  virtual int64_t out_features() const = 0;
  // Further names PyG's state dict gives to a parameter (its modules shared
  // under two names), as (alias, parameter name).
  virtual std::vector<std::pair<std::string, std::string>> pyg_aliases() const { return {}; }
};

}  // namespace edgegnn::nn
