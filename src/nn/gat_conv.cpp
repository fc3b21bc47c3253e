#include "nn/gat_conv.h"

#include <cmath>

#include "core/error.h"
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
  check(options.heads >= 1, "--heads: {} is not a positive head count", options.heads);
  check(options.attention_dropout >= 0 && options.attention_dropout < 1,
        "--attention-dropout: {} is not in [0, 1)", options.attention_dropout);
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

torch::Tensor GATConvImpl::message(const torch::Tensor& x) {
  const torch::Tensor projected = torch::matmul(x, lin_src_->weight.t());
  const torch::Tensor heads_view = projected.view({-1, heads(), out_per_head_});
  return torch::cat({projected, (heads_view * att_src_).sum(-1), (heads_view * att_dst_).sum(-1)},
                    1);
}

torch::Tensor GATConvImpl::aggregate(const torch::Tensor& messages, const LayerGraph& graph) {
  const int64_t h = heads(), width = h * out_per_head_;
  const torch::Tensor x = messages.narrow(1, 0, width).contiguous().view({-1, h, out_per_head_});
  const torch::Tensor src_score = messages.narrow(1, width, h).contiguous();
  const torch::Tensor dst_score = graph.dst_input(messages).narrow(1, width + h, h).contiguous();
  const double p = options_.attention_dropout;
  const torch::Tensor keep =
      is_training() && p > 0
          ? dropout_mask({graph.adjacency.col.size(0), h}, p).to(messages.scalar_type())
          : torch::Tensor();
  return attention_aggregate(x, src_score, dst_score, graph.adjacency, options_.negative_slope,
                             keep)
      .view({graph.num_dst, width});
}

torch::Tensor GATConvImpl::update(const torch::Tensor& aggregated, const torch::Tensor&) {
  const torch::Tensor heads_merged =
      options_.concat ? aggregated : aggregated.view({-1, heads(), out_per_head_}).mean(1);
  return heads_merged + bias_;
}

torch::Tensor GATConvImpl::forward(const FeatureMatrix& x, const LayerGraph& graph) {
  if (!graph.src_rows.defined()) return update(aggregate(message(x.widen()), graph), {});
  // Gathered sources: columns index them, and dst i is source i.
  LayerGraph local = graph;
  local.src_rows = torch::Tensor();
  local.dst_rows = torch::Tensor();
  local.dst_begin = 0;
  return update(aggregate(message(x.rows(graph.src_rows)), local), {});
}

void GATConvImpl::pretty_print(std::ostream& stream) const {
  stream << "GATConv(" << in_features_ << ", " << out_per_head_ << ", heads=" << heads()
         << (options_.concat ? "" : ", concat=False") << ")";
}

}  // namespace edgegnn::nn
