#include "train/gradient_buckets.h"

#include <gtest/gtest.h>

#include "test_support/errors.h"

namespace edgegnn::train {
namespace {

// Parameters of sizes 4 (unused), 10, 300, 7, 50, and a loss whose backward
// reaches them last to first, as a model's layers.
std::vector<torch::Tensor> make_parameters() {
  std::vector<torch::Tensor> params;
  for (int64_t n : {4, 10, 300, 7, 50})
    params.push_back((torch::arange(n, torch::kFloat32) / n + 0.5).requires_grad_());
  return params;
}

torch::Tensor chain_loss(const std::vector<torch::Tensor>& p) {
  torch::Tensor h = p[1].square().sum();
  for (size_t k = 2; k < 5; ++k) h = h * p[k].square().mean();
  return h;
}

// Stands in for a sum over three ranks with the same gradients.
GradientBuckets::StartAllreduce times_three(std::vector<int64_t>* started_sizes) {
  return [started_sizes](torch::Tensor& flat) {
    started_sizes->push_back(flat.numel());
    return std::function<void()>([&flat] { flat.mul_(3); });
  };
}

TEST(GradientBuckets, FusesSmallTensorsWithASmallFirstBucket) {
  std::vector<int64_t> sizes;
  // First bucket 60 floats: {4, 50} fuse, 7 would overflow it; then 310-float
  // buckets: {7, 300} and {10}.
  GradientBuckets buckets(make_parameters(), 60 * 4, 310 * 4, times_three(&sizes));
  EXPECT_EQ(buckets.num_buckets(), 3u);
  EXPECT_EQ(buckets.num_values(), 10 + 300 + 7 + 50 + 4);
}

TEST(GradientBuckets, StartsBucketsDuringBackwardAndWritesTheSums) {
  std::vector<torch::Tensor> params = make_parameters();
  chain_loss(params).backward();
  std::vector<torch::Tensor> expected;
  for (auto& p : params) {
    expected.push_back(p.grad().defined() ? p.grad() * 3 : torch::zeros_like(p));
    p.mutable_grad() = torch::Tensor();
  }

  std::vector<int64_t> sizes;
  size_t started_when_first_layer_arrives = 0;
  GradientBuckets* watched = nullptr;
  // Registered before the buckets' hooks, so it runs first.
  params[1].register_hook([&](const torch::Tensor&) {
    started_when_first_layer_arrives = watched->num_started();
  });
  GradientBuckets buckets(params, 60 * 4, 310 * 4, times_three(&sizes));
  watched = &buckets;
  for (int step = 0; step < 2; ++step) {
    sizes.clear();
    chain_loss(params).backward();
    // The last layers' bucket left while backward went on; the unused
    // parameter's bucket waits for finish().
    EXPECT_EQ(started_when_first_layer_arrives, 1u);
    EXPECT_EQ(buckets.num_started(), 2u);
    buckets.finish();
    EXPECT_EQ(sizes, (std::vector<int64_t>{57, 310, 4}));
    for (size_t k = 0; k < params.size(); ++k)
      EXPECT_TRUE(torch::allclose(params[k].grad(), expected[k])) << "step " << step << " " << k;
    for (auto& p : params) p.mutable_grad().zero_();
  }
}

TEST(GradientBuckets, RefusesASecondBackwardBeforeFinish) {
  std::vector<torch::Tensor> params = make_parameters();
  std::vector<int64_t> sizes;
  GradientBuckets buckets(params, 1 << 20, 1 << 20, times_three(&sizes));
  chain_loss(params).backward();
  EXPECT_NE(test::error_of([&] { chain_loss(params).backward(); }).find("second gradient"),
            std::string::npos);
}

}  // namespace
}  // namespace edgegnn::train
