// GCNConv (Kipf & Welling, "Semi-Supervised Classification with Graph
// Convolutional Networks", ICLR 2017), as PyG's GCNConv:
//
//   X' = D^-1/2 (A + I) D^-1/2 X W + b
//
// The normalised adjacency comes with the LayerGraph (Normalization::kGcn).
// Since A(XW) = (AX)W, the layer multiplies by W before or after aggregating,
// whichever touches fewer values; transforming first widens a compressed
// input (the feature matrix) whole, and multiplies only the nonzeros of one
// that carries them. Shapes: input (num_src, in) or global,
// output (num_dst, out). Parameter names match PyG (lin.weight, bias).
#pragma once

#include <torch/torch.h>

#include "nn/graph_conv.h"

namespace edgegnn::nn {

class GCNConvImpl : public GraphConv {
 public:
  GCNConvImpl(int64_t in_features, int64_t out_features);
  torch::Tensor forward(const FeatureMatrix& x, const LayerGraph& graph) override;
  Normalization normalization() const override { return Normalization::kGcn; }
  bool reads_nonzeros() const override { return true; }
  torch::Tensor message(const torch::Tensor& x) override;
  torch::Tensor aggregate(const torch::Tensor& messages, const LayerGraph& graph) override;
  torch::Tensor root(const torch::Tensor& x) override;
  torch::Tensor update(const torch::Tensor& aggregated, const torch::Tensor& root_term) override;
  int64_t in_features() const override { return in_features_; }
  int64_t out_features() const override { return out_features_; }
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;

 private:
  int64_t in_features_, out_features_;
  torch::nn::Linear lin_{nullptr};
  torch::Tensor bias_;
};
TORCH_MODULE(GCNConv);

}  // namespace edgegnn::nn
