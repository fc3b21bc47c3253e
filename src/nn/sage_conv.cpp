#include "nn/sage_conv.h"

namespace edgegnn::nn {

SAGEConvImpl::SAGEConvImpl(int64_t in_features, int64_t out_features)
    : in_features_(in_features), out_features_(out_features) {
  lin_l_ = register_module("lin_l", torch::nn::Linear(in_features, out_features));
  lin_r_ = register_module(
      "lin_r", torch::nn::Linear(torch::nn::LinearOptions(in_features, out_features).bias(false)));
  reset_parameters();
}

void SAGEConvImpl::reset_parameters() {
  lin_l_->reset_parameters();
  lin_r_->reset_parameters();
}

torch::Tensor SAGEConvImpl::forward(const FeatureMatrix& x, const LayerGraph& graph) {
  const bool plain = !x.compressed() && !x.stacked();
  if (!plain || x.values().scalar_type() == torch::kFloat32) {
    // [mean | root] as one matrix, so that one GEMM with [W_l | W_r] does
    // both products and their sum.
    torch::Tensor out;
    if (is_training() && (!plain || !x.values().requires_grad())) {
      const int64_t rows = graph.num_dst;
      if (!pair_storage_.defined() || pair_storage_.storage().use_count() > 1 ||
          pair_storage_.size(0) < rows || pair_storage_.size(1) != 2 * in_features_)
        pair_storage_ = torch::empty({rows, 2 * in_features_});
      out = pair_storage_.narrow(0, 0, rows);
    }
    const torch::Tensor pair = csr_aggregate_beside_rows(x, graph.adjacency, Aggregation::kMean,
                                                         graph.dst_rows, graph.dst_begin, out);
    return torch::addmm(lin_l_->bias, pair, torch::cat({lin_l_->weight, lin_r_->weight}, 1).t());
  }
  torch::Tensor neighbors = csr_aggregate(x, graph.adjacency, Aggregation::kMean);
  return lin_l_(neighbors) + lin_r_(graph.dst_input(x));
}

torch::Tensor SAGEConvImpl::message(const torch::Tensor& x) {
  return torch::matmul(x, lin_l_->weight.t());
}

torch::Tensor SAGEConvImpl::aggregate(const torch::Tensor& messages, const LayerGraph& graph) {
  return csr_aggregate(messages, graph.adjacency, Aggregation::kMean);
}

torch::Tensor SAGEConvImpl::root(const torch::Tensor& x) { return lin_r_(x); }

torch::Tensor SAGEConvImpl::update(const torch::Tensor& aggregated, const torch::Tensor& root_term) {
  return aggregated + lin_l_->bias + root_term;
}

void SAGEConvImpl::train(bool on) {
  if (!on) pair_storage_ = torch::Tensor();
  GraphConv::train(on);
}

void SAGEConvImpl::pretty_print(std::ostream& stream) const {
  stream << "SAGEConv(" << in_features_ << ", " << out_features_ << ", aggr=mean)";
}

}  // namespace edgegnn::nn
