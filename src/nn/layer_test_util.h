// Test helpers shared by the layer tests: run a layer and a plain-torch
// reference on the same input and compare outputs and every gradient.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

namespace edgegnn::nn::test {

using Layer = std::function<torch::Tensor(const torch::Tensor&)>;

// The output of `f` on a copy of x, then the gradients of sum(out * probe) with
// respect to x and every parameter of `module`, in named_parameters() order.
inline std::vector<torch::Tensor> values_and_gradients(const Layer& f, const torch::Tensor& x,
                                                       const torch::Tensor& probe,
                                                       torch::nn::Module& module) {
  torch::Tensor input = x.clone().requires_grad_();
  torch::Tensor out = f(input);
  std::vector<torch::Tensor> wrt{input};
  for (const auto& p : module.named_parameters()) wrt.push_back(p.value());
  std::vector<torch::Tensor> results = torch::autograd::grad({(out * probe).sum()}, wrt);
  results.insert(results.begin(), out.detach());
  return results;
}

// Expects `layer` and `reference` to agree on x: output (num_dst, out_features)
// and the gradients with respect to x and each parameter of `module`.
inline void expect_same_values_and_gradients(const Layer& layer, const Layer& reference,
                                             const torch::Tensor& x, int64_t num_dst,
                                             int64_t out_features, torch::nn::Module& module) {
  torch::Tensor probe = torch::randn({num_dst, out_features});
  std::vector<torch::Tensor> actual = values_and_gradients(layer, x, probe, module);
  std::vector<torch::Tensor> expected = values_and_gradients(reference, x, probe, module);
  std::vector<std::string> names{"output", "grad x"};
  for (const auto& p : module.named_parameters()) names.push_back("grad " + p.key());
  ASSERT_EQ(actual.size(), names.size());
  for (size_t k = 0; k < actual.size(); ++k) {
    EXPECT_TRUE(torch::allclose(actual[k], expected[k], /*rtol=*/1e-5, /*atol=*/1e-6))
        << names[k] << ":\n"
        << actual[k] << "\nreference:\n"
        << expected[k];
  }
}

}  // namespace edgegnn::nn::test
