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
  if (p > 0 && is_training()) {
    const torch::Tensor widened = x.widen();
    if (x.compressed()) {
      input = dropout_features(widened, p, widened);  // a fresh tensor: overwrite it
    } else {
      // A full batch's dropped features are a small graph's largest tensor, and
      // above glibc's 32 MiB mmap ceiling a fresh one faults in every page each
      // epoch (CiteSeer: 12 K faults, 90 % of its time): the last epoch's is
      // reused when nothing holds it any more.
      if (!dropped_input_.defined() || dropped_input_.sizes() != widened.sizes() ||
          dropped_input_.use_count() > 1)
        dropped_input_ = torch::empty_like(widened);
      input = dropout_features(widened, p, dropped_input_);
    }
  }
  torch::Tensor h = forward_layer(0, input, graphs[0]);
  for (int l = 1; l < num_layers(); ++l) h = forward_layer(l, h, graphs[l]);
  return torch::log_softmax(h, /*dim=*/-1);
}

}  // namespace edgegnn::nn
