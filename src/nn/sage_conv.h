// SAGEConv (Hamilton et al., "Inductive Representation Learning on Large
// Graphs", NeurIPS 2017), as PyG's SAGEConv with mean aggregation:
//
//   x'_i = W_r x_i + W_l mean_{j in N(i)} x_j + b        (b belongs to lin_l)
//
// A float32 or compressed input goes through one GEMM: [mean | root]
// (csr_aggregate_beside_rows) times [W_l | W_r].
//
// Shapes: input (num_src, in) — or the global matrix, see LayerGraph —
// output (num_dst, out). Parameter names match PyG's state dict
// (lin_l.weight, lin_l.bias, lin_r.weight).
#pragma once

#include <torch/torch.h>

#include "nn/graph_conv.h"

namespace edgegnn::nn {

class SAGEConvImpl : public GraphConv {
 public:
  SAGEConvImpl(int64_t in_features, int64_t out_features);
  torch::Tensor forward(const FeatureMatrix& x, const LayerGraph& graph) override;
  Normalization normalization() const override { return Normalization::kNone; }
  torch::Tensor message(const torch::Tensor& x) override;
  torch::Tensor aggregate(const torch::Tensor& messages, const LayerGraph& graph) override;
  torch::Tensor root(const torch::Tensor& x) override;
  torch::Tensor update(const torch::Tensor& aggregated, const torch::Tensor& root_term) override;
  int64_t in_features() const override { return in_features_; }
  int64_t out_features() const override { return out_features_; }
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;
  // Leaving training frees the pair kept for the next batch.
  void train(bool on = true) override;

 private:
  int64_t in_features_, out_features_;
  torch::nn::Linear lin_l_{nullptr}, lin_r_{nullptr};
  // The first layer's [mean | root] is a batch's largest tensor (Reddit:
  // 22 K x 1204 floats), above glibc's 32 MiB mmap ceiling: made afresh, every
  // page of it faulted in each batch (4 K pages when no huge page was free:
  // 26 K faults a batch). Training reuses the last batch's storage once
  // nothing holds it, grown to the largest batch.
  torch::Tensor pair_storage_;
};
TORCH_MODULE(SAGEConv);

}  // namespace edgegnn::nn
