#include "train/gradient_buckets.h"

#include <gtest/gtest.h>

namespace edgegnn::train {
namespace {

std::vector<torch::Tensor> parameters_with_grads() {
  std::vector<torch::Tensor> params;
  for (int64_t n : {10, 300, 7, 50}) {
    torch::Tensor p = torch::zeros({n}, torch::requires_grad());
    p.mutable_grad() = torch::arange(n, torch::kFloat32) + static_cast<float>(n);
    params.push_back(p);
  }
  return params;
}

TEST(GradientBuckets, FusesSmallTensorsAndSplitsAtTheCap) {
  // Cap of 100 floats: {50, 7} fuse, 300 stands alone, 10 starts another.
  GradientBuckets buckets(parameters_with_grads(), /*bucket_bytes=*/100 * 4);
  EXPECT_EQ(buckets.num_buckets(), 3u);
  EXPECT_EQ(buckets.num_values(), 10 + 300 + 7 + 50);
}

TEST(GradientBuckets, ReduceAppliesTheAllreduceToEveryGradient) {
  std::vector<torch::Tensor> params = parameters_with_grads();
  std::vector<torch::Tensor> before;
  for (auto& p : params) before.push_back(p.grad().clone());
  GradientBuckets buckets(params, /*bucket_bytes=*/100 * 4);
  int calls = 0;
  buckets.reduce([&](torch::Tensor& flat) {
    ++calls;
    flat.mul_(3);  // stands in for a sum over three identical ranks
  });
  EXPECT_EQ(calls, 3);
  for (size_t k = 0; k < params.size(); ++k)
    EXPECT_TRUE(torch::equal(params[k].grad(), before[k] * 3)) << k;
}

}  // namespace
}  // namespace edgegnn::train
