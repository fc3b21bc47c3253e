#include "nn/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace edgegnn::nn {
namespace {

using torch::Tensor;

TEST(Dropout, KeepsOneMinusPAndScalesWhatItKeeps) {
  torch::manual_seed(0);
  const int64_t n = 1 << 20;
  for (double p : {0.1, 0.5, 0.8}) {
    const Tensor y = dropout_features(torch::ones({n}), p);
    const Tensor kept = y != 0;
    const double fraction = kept.sum().item<double>() / n;
    // Binomial: 5 standard deviations of the kept fraction.
    EXPECT_NEAR(fraction, 1 - p, 5 * std::sqrt(p * (1 - p) / n)) << "p = " << p;
    EXPECT_TRUE(torch::allclose(y.masked_select(kept), torch::full({1}, 1 / (1 - p))));
  }
  const Tensor x = torch::ones({7});
  EXPECT_TRUE(dropout_features(x, 0).equal(x));
}

TEST(Dropout, NeighbouringElementsAndCallsAreIndependent) {
  torch::manual_seed(1);
  const int64_t n = 1 << 20;
  const Tensor a = dropout_features(torch::ones({n}), 0.5) != 0;
  const Tensor b = dropout_features(torch::ones({n}), 0.5) != 0;
  // Both kept: 1/4 of pairs, whether the pair is two calls or two neighbours.
  const double bound = 5 * std::sqrt(0.25 * 0.75 / n);
  EXPECT_NEAR((a & b).sum().item<double>() / n, 0.25, bound) << "two calls";
  EXPECT_NEAR((a.slice(0, 1) & a.slice(0, 0, n - 1)).sum().item<double>() / (n - 1), 0.25, bound)
      << "neighbours in one call";
}

TEST(Dropout, TheSeedFixesTheMaskWhateverTheThreadCount) {
  const Tensor x = torch::randn({1000, 37});
  const int threads = at::get_num_threads();
  std::vector<Tensor> masks;
  for (int t : {1, 2, 3}) {
    at::set_num_threads(t);
    torch::manual_seed(42);
    masks.push_back(relu_dropout(x, 0.3));
  }
  at::set_num_threads(threads);
  EXPECT_TRUE(masks[0].equal(masks[1]));
  EXPECT_TRUE(masks[0].equal(masks[2]));
  torch::manual_seed(42);
  const Tensor again = relu_dropout(x, 0.3);
  EXPECT_TRUE(again.equal(masks[0]));
  // Element i's fate is dropout_keeps(key, i): the key is the generator's next word.
  const Tensor ones = torch::ones({64});
  torch::manual_seed(43);
  const uint64_t key =
      at::detail::getDefaultCPUGenerator().get<at::CPUGeneratorImpl>()->random64();
  torch::manual_seed(43);
  const Tensor y = dropout_features(ones, 0.3);
  for (int64_t i = 0; i < 64; ++i)
    EXPECT_EQ(y[i].item<float>() != 0, dropout_keeps(key, i, std::lround(0.3 * 65536))) << i;
}

TEST(Dropout, ReluDropoutIsReluThenDropoutAndItsGradientFollowsTheOutput) {
  torch::manual_seed(7);
  const Tensor h = torch::randn({300, 20}, torch::requires_grad());
  const Tensor y = relu_dropout(h, 0.4);
  const Tensor survived = y != 0;
  // Every survivor is a positive input, scaled; about 0.6 of the positives survive.
  EXPECT_TRUE(torch::allclose(y.masked_select(survived), h.masked_select(survived) / 0.6));
  EXPECT_TRUE((h.masked_select(survived) > 0).all().item<bool>());
  const double positives = (h > 0).sum().item<double>();
  EXPECT_NEAR(survived.sum().item<double>() / positives, 0.6, 0.05);
  const Tensor weights = torch::randn({300, 20});
  (y * weights).sum().backward();
  EXPECT_TRUE(torch::allclose(h.grad(), torch::where(survived, weights / 0.6, torch::zeros({}))));
}

TEST(Dropout, NanAndInfStayVisible) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  torch::manual_seed(3);
  const Tensor x = torch::full({256}, nan);
  EXPECT_TRUE(dropout_features(x, 0.5).isnan().all().item<bool>());
  EXPECT_TRUE(relu_dropout(x, 0.5).isnan().all().item<bool>());
  // inf * 0 is NaN where dropped, inf where kept: never a finite number.
  EXPECT_FALSE(dropout_features(torch::full({256}, inf), 0.5).isfinite().any().item<bool>());
}

TEST(Dropout, WritesWhereItIsToldInPlaceOrIntoABuffer) {
  torch::manual_seed(5);
  Tensor x = torch::ones({1000});
  const Tensor y = dropout_features(x, 0.5, x);
  EXPECT_EQ(y.data_ptr<float>(), x.data_ptr<float>());
  EXPECT_GT((x == 0).sum().item<int64_t>(), 0);
  Tensor buffer = torch::full({1000}, 7.0f);
  torch::manual_seed(5);
  const Tensor z = dropout_features(torch::ones({1000}), 0.5, buffer);
  EXPECT_EQ(z.data_ptr<float>(), buffer.data_ptr<float>());
  EXPECT_TRUE(buffer.equal(x)) << "the same key, the same mask";
}

}  // namespace
}  // namespace edgegnn::nn
