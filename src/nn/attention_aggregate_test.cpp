#include "nn/attention_aggregate.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/error.h"

namespace edgegnn::nn {
namespace {

using torch::Tensor;

// Four dst rows over seven source rows: three edges, one, none (a row
// without edges gives zeros), four.
struct Block {
  std::vector<int64_t> rowptr{0, 3, 4, 4, 8};
  std::vector<int32_t> col{0, 3, 5, 1, 2, 4, 6, 0};
  int64_t num_src = 7, num_dst = 4;
  CsrAdjacency adjacency() {
    return {torch::from_blob(rowptr.data(), {num_dst + 1}, torch::kInt64),
            torch::from_blob(col.data(), {static_cast<int64_t>(col.size())}, torch::kInt32),
            {}};
  }
};

// The same computation in torch's own ops, differentiated by autograd.
Tensor reference(const Block& b, const Tensor& x, const Tensor& src_score,
                 const Tensor& dst_score, double slope, const Tensor& keep) {
  std::vector<int64_t> cols(b.col.begin(), b.col.end()), rows;
  for (int64_t i = 0; i < b.num_dst; ++i)
    for (int64_t e = b.rowptr[i]; e < b.rowptr[i + 1]; ++e) rows.push_back(i);
  const Tensor col = torch::tensor(cols), row = torch::tensor(rows);
  const Tensor z = torch::leaky_relu(
      src_score.index_select(0, col) + dst_score.index_select(0, row), slope);
  std::vector<Tensor> alpha;
  for (int64_t i = 0; i < b.num_dst; ++i)
    if (b.rowptr[i + 1] > b.rowptr[i])
      alpha.push_back(torch::softmax(z.slice(0, b.rowptr[i], b.rowptr[i + 1]), 0));
  Tensor w = torch::cat(alpha);
  if (keep.defined()) w = w * keep;
  const Tensor messages = w.unsqueeze(-1) * x.index_select(0, col);
  return torch::zeros({b.num_dst, x.size(1), x.size(2)}, x.options()).index_add(0, row, messages);
}

void expect_same_values_and_gradients(const Tensor& keep) {
  Block b;
  torch::manual_seed(7);
  const auto options = torch::TensorOptions().dtype(torch::kFloat64);
  const Tensor x0 = torch::randn({b.num_src, 2, 3}, options);
  const Tensor s0 = torch::randn({b.num_src, 2}, options);
  const Tensor d0 = torch::randn({b.num_dst, 2}, options);
  const Tensor upstream = torch::randn({b.num_dst, 2, 3}, options);
  std::vector<Tensor> grads[2];
  Tensor outs[2];
  for (int k = 0; k < 2; ++k) {
    Tensor x = x0.clone().requires_grad_(), s = s0.clone().requires_grad_(),
           d = d0.clone().requires_grad_();
    outs[k] = k == 0 ? attention_aggregate(x, s, d, b.adjacency(), 0.2, keep)
                     : reference(b, x, s, d, 0.2, keep);
    (outs[k] * upstream).sum().backward();
    grads[k] = {x.grad(), s.grad(), d.grad()};
  }
  EXPECT_TRUE(torch::allclose(outs[0], outs[1], 1e-12, 1e-12)) << outs[0] << outs[1];
  EXPECT_TRUE(outs[0][2].abs().sum().item<double>() == 0) << "a row without edges gives zeros";
  const char* names[] = {"x", "src_score", "dst_score"};
  for (int g = 0; g < 3; ++g)
    EXPECT_TRUE(torch::allclose(grads[0][g], grads[1][g], 1e-12, 1e-12))
        << names[g] << "\n" << grads[0][g] << "\n" << grads[1][g];
}

TEST(AttentionAggregate, MatchesTorchsOwnOpsInValuesAndGradients) {
  expect_same_values_and_gradients({});
}

TEST(AttentionAggregate, AttentionDropoutScalesTheKeptEdgesWeights) {
  torch::manual_seed(3);
  const Tensor keep =
      torch::bernoulli(torch::full({8, 2}, 0.5, torch::kFloat64)) / 0.5;  // p = 0.5
  ASSERT_GT(keep.eq(0).sum().item<int64_t>(), 0);
  expect_same_values_and_gradients(keep);
}

// Equal scores give every edge of a row the same weight: each head's rows
// are then the mean of its neighbours', as SAGE's aggregation gives them.
TEST(AttentionAggregate, EqualScoresAverageTheNeighbours) {
  Block b;
  const Tensor x = torch::randn({b.num_src, 2, 3});
  const Tensor out = attention_aggregate(x, torch::zeros({b.num_src, 2}),
                                         torch::zeros({b.num_dst, 2}), b.adjacency(), 0.2);
  const Tensor mean = csr_aggregate(x.view({b.num_src, 6}), b.adjacency(), Aggregation::kMean);
  EXPECT_TRUE(torch::allclose(out.view({b.num_dst, 6}), mean, 1e-6, 1e-6)) << out << mean;
}

TEST(AttentionAggregate, BadShapesAreErrors) {
  Block b;
  const Tensor x = torch::randn({b.num_src, 2, 3});
  EXPECT_THROW(attention_aggregate(x, torch::zeros({b.num_src, 3}), torch::zeros({b.num_dst, 2}),
                                   b.adjacency(), 0.2),
               Error);
  EXPECT_THROW(attention_aggregate(x, torch::zeros({b.num_src, 2}), torch::zeros({b.num_dst, 2}),
                                   b.adjacency(), 0.2, torch::ones({3, 2})),
               Error);
}

}  // namespace
}  // namespace edgegnn::nn
