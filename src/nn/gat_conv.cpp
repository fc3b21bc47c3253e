#include "nn/gat_conv.h"

#include <cmath>

#include "nn/attention_aggregate.h"
#include "nn/dropout.h"

namespace edgegnn::nn {
namespace {

// PyG's glorot: uniform in +-sqrt(6 / (rows + columns)) of the last two
// dimensions (torch's xavier counts a (1, heads, out) tensor's fans otherwise).
void glorot_(torch::Tensor& t) {
  const double bound = std::sqrt(6.0 / double(t.size(-2) + t.size(-1)));
  t.uniform_(-bound, bound);
}

}  // namespace

GATConvImpl::GATConvImpl(int64_t in_features, int64_t out_per_head, const GATOptions& options)
    : in_features_(in_features), out_per_head_(out_per_head), options_(options) {
  const int64_t heads = options.heads;
  lin_src_ = register_module(
      "lin_src",
      torch::nn::Linear(torch::nn::LinearOptions(in_features, heads * out_per_head).bias(false)));
  att_src_ = register_parameter("att_src", torch::empty({1, heads, out_per_head}));
  att_dst_ = register_parameter("att_dst", torch::empty({1, heads, out_per_head}));
  bias_ = register_parameter("bias", torch::empty({out_features()}));
  reset_parameters();
}

int64_t GATConvImpl::out_features() const {
  return options_.concat ? heads() * out_per_head_ : out_per_head_;
}

void GATConvImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  glorot_(lin_src_->weight);
  glorot_(att_src_);
  glorot_(att_dst_);
  bias_.zero_();
}

torch::Tensor GATConvImpl::project(const torch::Tensor& x) {
  return torch::matmul(x, lin_src_->weight.t());
}

torch::Tensor GATConvImpl::score(const torch::Tensor& projected, const torch::Tensor& att) {
  return (projected.view({-1, heads(), out_per_head_}) * att).sum(-1);
}

torch::Tensor GATConvImpl::message(const torch::Tensor& x) {
  const torch::Tensor projected = project(x);
  return torch::cat({projected, score(projected, att_src_), score(projected, att_dst_)}, 1);
}

torch::Tensor GATConvImpl::attend(const torch::Tensor& projected, const torch::Tensor& src_score,
                                  const torch::Tensor& dst_score, const LayerGraph& graph) {
  const int64_t h = heads();
  const double p = options_.attention_dropout;
  const torch::Tensor keep =
      is_training() && p > 0
          ? dropout_mask({graph.adjacency.col.size(0), h}, p).to(projected.scalar_type())
          : torch::Tensor();
  return attention_aggregate(projected.view({-1, h, out_per_head_}), src_score, dst_score,
                             graph.adjacency, options_.negative_slope, keep)
      .view({graph.num_dst, h * out_per_head_});
}

torch::Tensor GATConvImpl::aggregate(const torch::Tensor& messages, const LayerGraph& graph) {
  const int64_t h = heads(), width = h * out_per_head_;
  return attend(messages.narrow(1, 0, width).contiguous(),
                messages.narrow(1, width, h).contiguous(),
                graph.dst_input(messages).narrow(1, width + h, h).contiguous(), graph);
}

torch::Tensor GATConvImpl::update(const torch::Tensor& aggregated, const torch::Tensor&) {
  const torch::Tensor heads_merged =
      options_.concat ? aggregated : aggregated.view({-1, heads(), out_per_head_}).mean(1);
  return heads_merged + bias_;
}

torch::Tensor GATConvImpl::forward(const FeatureMatrix& x, const LayerGraph& graph) {
  // Training's path: the pieces message() concatenates, used where they lie.
  LayerGraph local = graph;
  torch::Tensor projected;
  if (graph.src_rows.defined()) {
    // Gathered sources: columns index them, and dst i is source i.
    projected = project(x.rows(graph.src_rows));
    local.src_rows = local.dst_rows = torch::Tensor();
    local.dst_begin = 0;
  } else {
    projected = project(x.widen());
  }
  const torch::Tensor dst_score = score(local.dst_input(projected), att_dst_);
  return update(attend(projected, score(projected, att_src_), dst_score, local), {});
}

void GATConvImpl::pretty_print(std::ostream& stream) const {
  stream << "GATConv(" << in_features_ << ", " << out_per_head_ << ", heads=" << heads()
         << (options_.concat ? "" : ", concat=False") << ")";
}

}  // namespace edgegnn::nn
