#include "nn/gnn_model.h"

#include "core/error.h"
#include "nn/dropout.h"
#include "nn/gat_conv.h"
#include "nn/gcn_conv.h"
#include "nn/sage_conv.h"

namespace edgegnn::nn {

GnnModelImpl::GnnModelImpl(const ModelOptions& options) : options_(options) {
  validate(options);
  module_list_ = register_module("convs", torch::nn::ModuleList());
  for (int l = 0; l < options.num_layers; ++l) {
    const bool last = l + 1 == options.num_layers;
    const int64_t in = l == 0 ? options.in_features : options.hidden_width();
    const int64_t out = last ? options.num_classes : options.hidden;
    std::shared_ptr<GraphConv> conv;
    switch (options.kind) {
      case ModelKind::kSage:
        conv = SAGEConv(in, out).ptr();
        break;
      case ModelKind::kGcn:
        conv = GCNConv(in, out).ptr();
        break;
      case ModelKind::kGat:
        // As PyG's examples/gat.py: hidden heads concatenated, one output head.
        conv = GATConv(in, out,
                       GATOptions{.heads = last ? 1 : options.heads,
                                  .concat = !last,
                                  .attention_dropout = options.attention_dropout})
                   .ptr();
        break;
    }
    module_list_->push_back(conv);
    convs_.push_back(conv);
  }
}

torch::Tensor GnnModelImpl::activate(int l, const torch::Tensor& h) {
  if (l + 1 == num_layers()) return h;
  if (options_.kind == ModelKind::kGat) {
    const torch::Tensor elu = torch::elu(h);
    return is_training() && options_.dropout > 0 ? elu * dropout_mask(h.sizes(), options_.dropout)
                                                 : elu;
  }
  return is_training() ? relu_dropout(h, options_.dropout) : torch::relu(h);
}

std::vector<std::pair<std::string, std::string>> GnnModelImpl::pyg_aliases() const {
  std::vector<std::pair<std::string, std::string>> aliases;
  for (size_t l = 0; l < convs_.size(); ++l) {
    const std::string prefix = "convs." + std::to_string(l) + ".";
    for (const auto& [alias, name] : convs_[l]->pyg_aliases())
      aliases.emplace_back(prefix + alias, prefix + name);
  }
  return aliases;
}

torch::Tensor GnnModelImpl::forward_layer(int l, const FeatureMatrix& x, const LayerGraph& graph) {
  return activate(l, convs_[l]->forward(x, graph));
}

torch::Tensor GnnModelImpl::forward(const FeatureMatrix& x, const std::vector<LayerGraph>& graphs) {
  check(static_cast<int>(graphs.size()) == num_layers(), "model has {} layers but got {} blocks",
        num_layers(), graphs.size());
  FeatureMatrix input = x;
  const double p = options_.input_dropout;
  if (p > 0 && is_training() && x.nonzeros() && convs_.front()->reads_nonzeros()) {
    input = FeatureMatrix::of_nonzeros(dropout_nonzeros(*x.nonzeros(), p));
  } else if (p > 0 && is_training()) {
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
