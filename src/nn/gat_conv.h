// GATConv (Veličković et al., "Graph Attention Networks", ICLR 2018), as PyG's
// GATConv with self-loops:
//
//   x'_i = concat (or mean) over heads h of  sum_{j in N(i) + i} alpha^h_ij W^h x_j,  + b
//   alpha^h_ij = softmax over j of LeakyReLU(<a^h_src, W^h x_j> + <a^h_dst, W^h x_i>)
//
// with attention dropout on alpha while training. The edge softmax and the
// weighted sum are attention_aggregate (one autograd function over the CSR);
// W is one GEMM to heads x out columns. The LayerGraph carries self-loops
// (Normalization::kSelfLoops): given ones dropped, one added per dst row.
//
// Every source row is transformed before aggregating (attention needs W x_j),
// so message() is W x with both scores appended: (rows, heads * out + 2 heads).
// A sampled first layer gathers its source rows (LayerGraph::src_rows).
//
// Shapes: input (num_src, in) or global, output (num_dst, heads * out) when
// concatenating, else (num_dst, out). Parameters as PyG's state dict:
// lin_src.weight (heads * out, in), att_src and att_dst (1, heads, out), bias;
// PyG also names lin_src.weight lin_dst.weight (pyg_aliases()).
#pragma once

#include <torch/torch.h>

#include "nn/graph_conv.h"

namespace edgegnn::nn {

struct GATOptions {
  int64_t heads = 1;
  bool concat = true;
  double negative_slope = 0.2;
  double attention_dropout = 0;
};

class GATConvImpl : public GraphConv {
 public:
  GATConvImpl(int64_t in_features, int64_t out_per_head, const GATOptions& options);
  torch::Tensor forward(const FeatureMatrix& x, const LayerGraph& graph) override;
  Normalization normalization() const override { return Normalization::kSelfLoops; }
  bool transforms_every_source() const override { return true; }
  torch::Tensor message(const torch::Tensor& x) override;
  torch::Tensor aggregate(const torch::Tensor& messages, const LayerGraph& graph) override;
  torch::Tensor root(const torch::Tensor&) override { return {}; }
  torch::Tensor update(const torch::Tensor& aggregated, const torch::Tensor& root_term) override;
  int64_t in_features() const override { return in_features_; }
  int64_t out_features() const override;
  std::vector<std::pair<std::string, std::string>> pyg_aliases() const override {
    return {{"lin_dst.weight", "lin_src.weight"}};
  }
  int64_t heads() const { return options_.heads; }
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;

 private:
  int64_t in_features_, out_per_head_;
  GATOptions options_;
  // W x, (rows, heads * out); a head's score <att, W x> per row, (rows, heads).
  torch::Tensor project(const torch::Tensor& x);
  torch::Tensor score(const torch::Tensor& projected, const torch::Tensor& att);
  // Attention (with its dropout in training) over projected sources and the
  // dst rows' scores: (graph.num_dst, heads * out).
  torch::Tensor attend(const torch::Tensor& projected, const torch::Tensor& src_score,
                       const torch::Tensor& dst_score, const LayerGraph& graph);

  torch::nn::Linear lin_src_{nullptr};
  torch::Tensor att_src_, att_dst_, bias_;
};
TORCH_MODULE(GATConv);

}  // namespace edgegnn::nn
