#include "nn/csr_aggregate.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace edgegnn::nn {
namespace {

using torch::Tensor;

CsrAdjacency csr(std::vector<int64_t> rowptr, std::vector<int32_t> col) {
  return {torch::tensor(rowptr, torch::kInt64), torch::tensor(col, torch::kInt32), Tensor()};
}

// Random CSR: num_dst rows, each with 0..max_degree distinct columns < num_src.
CsrAdjacency random_csr(int64_t num_dst, int64_t num_src, int64_t max_degree, uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<int64_t> rowptr{0};
  std::vector<int32_t> col;
  for (int64_t i = 0; i < num_dst; ++i) {
    int64_t degree = torch::randint(0, max_degree + 1, {1}).item<int64_t>();
    Tensor picks = torch::randperm(num_src).narrow(0, 0, std::min(degree, num_src));
    for (int64_t j = 0; j < picks.size(0); ++j) col.push_back(picks[j].item<int32_t>());
    rowptr.push_back(static_cast<int64_t>(col.size()));
  }
  return csr(rowptr, col);
}

// The same aggregation in plain torch ops, as PyG's scatter does it.
Tensor reference(const Tensor& x, const CsrAdjacency& a, Aggregation aggregation) {
  const int64_t num_dst = a.num_dst();
  Tensor row = torch::repeat_interleave(torch::arange(num_dst), a.rowptr.diff());
  Tensor messages = x.index_select(0, a.col.to(torch::kInt64));
  if (a.weight.defined()) messages = messages * a.weight.unsqueeze(1);
  Tensor out = torch::zeros({num_dst, x.size(1)}, x.options()).index_add(0, row, messages);
  if (aggregation == Aggregation::kMean)
    out = out / a.rowptr.diff().clamp_min(1).unsqueeze(1).to(x.scalar_type());
  return out;
}

TEST(CsrAggregate, HandComputedSumAndMean) {
  Tensor x = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f}).view({3, 2});
  CsrAdjacency a = csr({0, 2, 2, 3}, {0, 2, 1});  // row 1 is empty
  Tensor sum = csr_aggregate(x, a, Aggregation::kSum);
  EXPECT_TRUE(torch::equal(sum, torch::tensor({6.0f, 8.0f, 0.0f, 0.0f, 3.0f, 4.0f}).view({3, 2})));
  Tensor mean = csr_aggregate(x, a, Aggregation::kMean);
  EXPECT_TRUE(torch::equal(mean, torch::tensor({3.0f, 4.0f, 0.0f, 0.0f, 3.0f, 4.0f}).view({3, 2})));
}

TEST(CsrAggregate, MatchesIndexAddForwardAndBackwardOnRandomBlocks) {
  for (uint64_t seed = 0; seed < 5; ++seed) {
    for (auto aggregation : {Aggregation::kSum, Aggregation::kMean}) {
      for (bool weighted : {false, true}) {
        if (weighted && aggregation == Aggregation::kMean) continue;
        CsrAdjacency a = random_csr(/*num_dst=*/37, /*num_src=*/53, /*max_degree=*/9, seed);
        if (weighted) a.weight = torch::rand({a.col.size(0)});
        Tensor x = torch::randn({53, 19}, torch::requires_grad());
        Tensor probe = torch::randn({37, 19});
        Tensor out = csr_aggregate(x, a, aggregation);
        Tensor grad = torch::autograd::grad({(out * probe).sum()}, {x})[0];
        Tensor x_ref = x.detach().clone().requires_grad_();
        Tensor out_ref = reference(x_ref, a, aggregation);
        Tensor grad_ref = torch::autograd::grad({(out_ref * probe).sum()}, {x_ref})[0];
        EXPECT_TRUE(torch::allclose(out, out_ref, 1e-5, 1e-5)) << "seed " << seed;
        EXPECT_TRUE(torch::allclose(grad, grad_ref, 1e-5, 1e-5)) << "seed " << seed;
      }
    }
  }
}

TEST(CsrAggregate, GradientMatchesFiniteDifferences) {
  CsrAdjacency a = random_csr(/*num_dst=*/5, /*num_src=*/7, /*max_degree=*/4, /*seed=*/3);
  a.weight = torch::rand({a.col.size(0)}, torch::kFloat64);
  Tensor x = torch::randn({7, 3}, torch::dtype(torch::kFloat64).requires_grad(true));
  Tensor probe = torch::randn({5, 3}, torch::kFloat64);
  auto loss = [&](const Tensor& input) { return (csr_aggregate(input, a) * probe).sum(); };
  Tensor grad = torch::autograd::grad({loss(x)}, {x})[0];
  const double eps = 1e-6;
  torch::NoGradGuard no_grad;
  Tensor numeric = torch::zeros_like(grad);
  for (int64_t i = 0; i < x.numel(); ++i) {
    Tensor plus = x.detach().clone(), minus = x.detach().clone();
    plus.view(-1)[i] += eps;
    minus.view(-1)[i] -= eps;
    numeric.view(-1)[i] = (loss(plus) - loss(minus)).item<double>() / (2 * eps);
  }
  EXPECT_TRUE(torch::allclose(grad, numeric, 1e-6, 1e-8));
}

TEST(CsrAggregate, SameResultWhateverTheThreadCount) {
  CsrAdjacency a = random_csr(/*num_dst=*/500, /*num_src=*/800, /*max_degree=*/30, /*seed=*/1);
  Tensor x = torch::randn({800, 64});
  at::set_num_threads(1);
  Tensor one = csr_aggregate(x, a, Aggregation::kMean);
  at::set_num_threads(2);
  Tensor two = csr_aggregate(x, a, Aggregation::kMean);
  EXPECT_TRUE(torch::equal(one, two));
}

TEST(CsrAggregate, BesideRowsIsTheAggregateThenTheRootRowsWhateverTheStorage) {
  torch::manual_seed(5);
  CsrAdjacency a = random_csr(/*num_dst=*/60, /*num_src=*/90, /*max_degree=*/12, /*seed=*/2);
  const Tensor x = torch::randn({90, 19});
  const Tensor scale = torch::rand({19}) + 0.1, offset = torch::randn({19});
  const FeatureMatrix int8 =
      FeatureMatrix::int8(torch::randint(0, 256, {90, 19}).to(torch::kUInt8), scale, offset);
  const FeatureMatrix stacked = FeatureMatrix::stacked(
      {FeatureMatrix(x.narrow(0, 0, 40).clone()), FeatureMatrix(x.narrow(0, 40, 50).clone())});
  const Tensor root_rows = torch::randint(0, 90, {60}, torch::kInt64);
  for (const FeatureMatrix& m :
       {FeatureMatrix(x), FeatureMatrix::float16(x.to(torch::kHalf)), int8, stacked}) {
    for (Aggregation aggregation : {Aggregation::kSum, Aggregation::kMean}) {
      const Tensor aggregate = csr_aggregate(m, a, aggregation);
      EXPECT_TRUE(torch::equal(csr_aggregate_beside_rows(m, a, aggregation, root_rows, 0),
                               torch::cat({aggregate, m.rows(root_rows)}, 1)));
      EXPECT_TRUE(torch::equal(csr_aggregate_beside_rows(m, a, aggregation, Tensor(), 30),
                               torch::cat({aggregate, m.rows(30, 60)}, 1)));
    }
  }
  EXPECT_THROW(
      csr_aggregate_beside_rows(x.clone().requires_grad_(), a, Aggregation::kSum, Tensor(), 0),
      Error);
  EXPECT_THROW(csr_aggregate_beside_rows(x, a, Aggregation::kMean, Tensor(), 31), Error);
  EXPECT_THROW(csr_aggregate_beside_rows(x, a, Aggregation::kMean, root_rows.narrow(0, 0, 59), 0),
               Error);
  EXPECT_THROW(csr_aggregate_beside_rows(x, a, Aggregation::kMean, root_rows + 1000, 0), Error);
}

// A float32 x with gradient: the same pair, and through it the gradient that
// the separate aggregate and root rows give, root rows by index or by range
// (a row may be both a neighbour and a root, or several roots).
TEST(CsrAggregate, BesideRowsPassesTheGradientOfBothHalves) {
  torch::manual_seed(6);
  CsrAdjacency a = random_csr(/*num_dst=*/60, /*num_src=*/90, /*max_degree=*/12, /*seed=*/3);
  const Tensor x = torch::randn({90, 19});
  const Tensor probe = torch::randn({60, 38});
  const Tensor root_rows = torch::randint(0, 90, {60}, torch::kInt64);
  for (bool by_index : {true, false}) {
    auto run = [&](bool fused) {
      const Tensor input = x.clone().requires_grad_();
      const Tensor out =
          fused
              ? csr_aggregate_beside_rows(input, a, Aggregation::kMean,
                                          by_index ? root_rows : Tensor(), 30)
              : torch::cat({csr_aggregate(input, a, Aggregation::kMean),
                            by_index ? input.index_select(0, root_rows) : input.narrow(0, 30, 60)},
                           1);
      (out * probe).sum().backward();
      return std::pair{out.detach(), input.grad()};
    };
    const auto [out, grad] = run(true);
    const auto [ref_out, ref_grad] = run(false);
    EXPECT_TRUE(torch::equal(out, ref_out)) << "by index " << by_index;
    EXPECT_TRUE(torch::allclose(grad, ref_grad, 1e-6, 1e-6)) << "by index " << by_index;
  }
}

TEST(CsrAggregate, RejectsMalformedAdjacency) {
  Tensor x = torch::randn({3, 2});
  EXPECT_THROW(csr_aggregate(x, csr({1, 2}, {0})), Error);
  CsrAdjacency wrong_dtype{torch::tensor({0, 1}, torch::kInt32), torch::tensor({0}, torch::kInt32),
                           Tensor()};
  EXPECT_THROW(csr_aggregate(x, wrong_dtype), Error);
  CsrAdjacency weighted = csr({0, 1}, {0});
  weighted.weight = torch::ones({1});
  EXPECT_THROW(csr_aggregate(x, weighted, Aggregation::kMean), Error);
}

}  // namespace
}  // namespace edgegnn::nn
