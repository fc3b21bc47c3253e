// GnnModel: a stack of GraphConv layers with ReLU (GAT: ELU) and dropout
// between them, ending in log-softmax over classes — reddit.py's SAGE, the GCN
// paper's model and PyG's examples/gat.py. Parameters are named as in PyG (convs.0.lin_l.weight,
// ...), so a state dict saved by edgegnn loads into the PyG model.
//
// forward() runs a sampled mini-batch (one LayerGraph per layer, input layer
// first) or a full batch; forward_layer() runs one layer for layer-wise
// inference over node chunks.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/graph_conv.h"
#include "nn/model_options.h"

namespace edgegnn::nn {

class GnnModelImpl : public torch::nn::Module {
 public:
  explicit GnnModelImpl(const ModelOptions& options);

  // Log-probabilities (num_dst of the last graph, num_classes). Input dropout
  // widens a compressed `x` whole.
  torch::Tensor forward(const FeatureMatrix& x, const std::vector<LayerGraph>& graphs);
  // Layer `l` alone, with the activation that follows it (none after the last;
  // dropout only in training mode).
  torch::Tensor forward_layer(int l, const FeatureMatrix& x, const LayerGraph& graph);
  // The activation (ReLU or ELU, dropout in training) after layer `l`'s raw output.
  torch::Tensor activate(int l, const torch::Tensor& h);
  GraphConv& conv(int l) { return *convs_[l]; }
  // Further names of parameters in PyG's state dict, as (alias, name).
  std::vector<std::pair<std::string, std::string>> pyg_aliases() const;

  int num_layers() const { return static_cast<int>(convs_.size()); }
  Normalization normalization() const { return convs_.front()->normalization(); }
  const ModelOptions& options() const { return options_; }
  // The first layer's parameters (the GCN paper decays only those).
  std::vector<torch::Tensor> first_layer_parameters() const { return convs_.front()->parameters(); }

 private:
  ModelOptions options_;
  torch::nn::ModuleList module_list_;
  std::vector<std::shared_ptr<GraphConv>> convs_;
  torch::Tensor dropped_input_;  // input dropout's output, reused across steps
};
TORCH_MODULE(GnnModel);

}  // namespace edgegnn::nn
