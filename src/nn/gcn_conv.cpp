#include "nn/gcn_conv.h"

#include "nn/sparse_rows.h"

namespace edgegnn::nn {

GCNConvImpl::GCNConvImpl(int64_t in_features, int64_t out_features)
    : in_features_(in_features), out_features_(out_features) {
  lin_ = register_module(
      "lin", torch::nn::Linear(torch::nn::LinearOptions(in_features, out_features).bias(false)));
  bias_ = register_parameter("bias", torch::zeros({out_features}));
  reset_parameters();
}

void GCNConvImpl::reset_parameters() {
  // Glorot, as PyG's GCNConv.
  torch::NoGradGuard no_grad;
  torch::nn::init::xavier_uniform_(lin_->weight);
  bias_.zero_();
}

torch::Tensor GCNConvImpl::forward(const FeatureMatrix& x, const LayerGraph& graph) {
  const int64_t num_edges = graph.adjacency.col.size(0);
  // Multiply-adds of each order: transform all inputs then aggregate `out`-wide
  // rows, or aggregate `in`-wide rows then transform the dst rows only. A
  // sparse product's multiply-add costs a few of a GEMM's: an indexed row.
  const SparseRows* nonzeros = x.nonzeros();
  const double transform_first =
      (nonzeros ? 4.0 * nonzeros->num_nonzeros() : double(x.num_rows()) * in_features_) *
          out_features_ +
      double(num_edges) * out_features_;
  const double aggregate_first = double(graph.num_dst) * in_features_ * out_features_ +
                                 double(num_edges) * in_features_;
  torch::Tensor out;
  if (nonzeros && (!x.values().defined() || transform_first < aggregate_first))
    out = csr_aggregate(sparse_linear(*nonzeros, lin_->weight), graph.adjacency);
  else if (transform_first < aggregate_first)
    out = csr_aggregate(lin_(x.widen()), graph.adjacency);
  else
    out = lin_(csr_aggregate(x, graph.adjacency));
  return out + bias_;
}

torch::Tensor GCNConvImpl::message(const torch::Tensor& x) { return lin_(x); }

torch::Tensor GCNConvImpl::aggregate(const torch::Tensor& messages, const LayerGraph& graph) {
  return csr_aggregate(messages, graph.adjacency, Aggregation::kSum);
}

torch::Tensor GCNConvImpl::root(const torch::Tensor&) { return {}; }

torch::Tensor GCNConvImpl::update(const torch::Tensor& aggregated, const torch::Tensor&) {
  return aggregated + bias_;
}

void GCNConvImpl::pretty_print(std::ostream& stream) const {
  stream << "GCNConv(" << in_features_ << ", " << out_features_ << ")";
}

}  // namespace edgegnn::nn
