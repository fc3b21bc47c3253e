#include "nn/gnn_model.h"

#include "core/error.h"
#include "nn/dropout.h"
#include "nn/gcn_conv.h"
#include "nn/sage_conv.h"

namespace edgegnn::nn {

GnnModelImpl::GnnModelImpl(const ModelOptions& options) : options_(options) {
  check(options.num_layers >= 1, "--layers: {} is not a positive layer count", options.num_layers);
  check(options.hidden >= 1, "--hidden: {} is not a positive width", options.hidden);
  check(options.dropout >= 0 && options.dropout < 1, "--dropout: {} is not in [0, 1)",
        options.dropout);
  module_list_ = register_module("convs", torch::nn::ModuleList());
  for (int l = 0; l < options.num_layers; ++l) {
    const int64_t in = l == 0 ? options.in_features : options.hidden;
    const int64_t out = l + 1 == options.num_layers ? options.num_classes : options.hidden;
    std::shared_ptr<GraphConv> conv;
    if (options.kind == ModelKind::kSage)
      conv = SAGEConv(in, out).ptr();
    else
      conv = GCNConv(in, out).ptr();
    module_list_->push_back(conv);
    convs_.push_back(conv);
  }
}

torch::Tensor GnnModelImpl::activate(int l, const torch::Tensor& h) {
  if (l + 1 == num_layers()) return h;
  return is_training() ? relu_dropout(h, options_.dropout) : torch::relu(h);
}

torch::Tensor GnnModelImpl::forward_layer(int l, const FeatureMatrix& x, const LayerGraph& graph) {
  return activate(l, convs_[l]->forward(x, graph));
}

torch::Tensor GnnModelImpl::forward(const FeatureMatrix& x, const std::vector<LayerGraph>& graphs) {
  check(static_cast<int>(graphs.size()) == num_layers(), "model has {} layers but got {} blocks",
        num_layers(), graphs.size());
  FeatureMatrix input = x;
  const double p = options_.input_dropout;
  // A compressed x widens into a fresh tensor, which dropout may overwrite.
  if (p > 0 && is_training()) input = dropout_features(x.widen(), p, /*in_place=*/x.compressed());
  torch::Tensor h = forward_layer(0, input, graphs[0]);
  for (int l = 1; l < num_layers(); ++l) h = forward_layer(l, h, graphs[l]);
  return torch::log_softmax(h, /*dim=*/-1);
}

}  // namespace edgegnn::nn
