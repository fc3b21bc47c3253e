#include "nn/sparse_rows.h"

#include <gtest/gtest.h>

#include "graph/synthetic.h"
#include "nn/dropout.h"
#include "nn/gnn_model.h"

namespace edgegnn::nn {
namespace {

using torch::Tensor;

// (rows, columns) normal values of which about `density` are nonzero.
Tensor sparse_matrix(int64_t rows, int64_t columns, double density) {
  return torch::randn({rows, columns}) * (torch::rand({rows, columns}) < density);
}

TEST(SparseRows, NonzerosGiveTheMatrixBackAndListEachColumnsEntriesInRowOrder) {
  torch::manual_seed(0);
  const Tensor x = sparse_matrix(60, 45, 0.05);
  const std::optional<SparseRows> s = nonzeros_of(x, 0.1);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->num_nonzeros(), (x != 0).sum().item<int64_t>());
  EXPECT_TRUE(s->dense().equal(x));
  const auto colptr = s->by_column.rowptr.accessor<int64_t, 1>();
  const auto entry = s->by_column.edge.accessor<int64_t, 1>();
  const auto col = s->col.accessor<int32_t, 1>();
  const auto row = s->by_column.row.accessor<int32_t, 1>();
  ASSERT_EQ(colptr[45], s->num_nonzeros());
  for (int64_t c = 0; c < 45; ++c) {
    EXPECT_EQ(colptr[c + 1] - colptr[c], (x.select(1, c) != 0).sum().item<int64_t>());
    for (int64_t k = colptr[c]; k < colptr[c + 1]; ++k) {
      EXPECT_EQ(col[entry[k]], c);
      if (k > colptr[c]) EXPECT_LT(row[k - 1], row[k]);
    }
  }
}

TEST(SparseRows, AMatrixDenserThanTheLimitHasNone) {
  torch::manual_seed(1);
  EXPECT_FALSE(nonzeros_of(sparse_matrix(40, 30, 0.5), 0.1).has_value());
  EXPECT_TRUE(nonzeros_of(torch::zeros({3, 4}), 0.0).has_value());
}

TEST(SparseRows, LinearGivesTheDenseProductAndWeightGradientWhateverTheThreads) {
  torch::manual_seed(2);
  const Tensor x = sparse_matrix(300, 80, 0.04);
  const SparseRows s = *nonzeros_of(x, 0.1);
  const Tensor probe = torch::randn({300, 16});
  const int threads = at::get_num_threads();
  std::vector<Tensor> outs, grads;
  for (int t : {1, 2, 3}) {
    at::set_num_threads(t);
    torch::manual_seed(3);
    const Tensor w = torch::randn({16, 80}).requires_grad_();
    const Tensor out = sparse_linear(s, w);
    (out * probe).sum().backward();
    outs.push_back(out.detach());
    grads.push_back(w.grad());
    if (t == 1) {
      const Tensor ref_w = w.detach().clone().requires_grad_();
      const Tensor ref = x.mm(ref_w.t());
      (ref * probe).sum().backward();
      EXPECT_TRUE(torch::allclose(out, ref, 1e-5, 1e-5));
      EXPECT_TRUE(torch::allclose(w.grad(), ref_w.grad(), 1e-5, 1e-5));
    }
  }
  at::set_num_threads(threads);
  for (int k : {1, 2}) {
    EXPECT_TRUE(outs[k].equal(outs[0])) << "threads " << k + 1;
    EXPECT_TRUE(grads[k].equal(grads[0])) << "threads " << k + 1;
  }
}

TEST(SparseRows, DropoutOfNonzerosKeepsWhatDenseDropoutKeeps) {
  torch::manual_seed(4);
  const Tensor x = sparse_matrix(123, 37, 0.1);
  const SparseRows s = *nonzeros_of(x, 0.2);
  for (double p : {0.2, 0.5}) {
    torch::manual_seed(5);
    const Tensor dense = dropout_features(x, p);
    torch::manual_seed(5);
    const SparseRows dropped = dropout_nonzeros(s, p);
    EXPECT_TRUE(dropped.dense().equal(dense)) << "p = " << p;
    EXPECT_TRUE(dropped.col.is_same(s.col)) << "the index is shared";
  }
}

// The GCN paper's model (input dropout 0.5) trained from the nonzeros takes
// the step the dense input gives: same log-probabilities and gradients.
TEST(SparseRows, GcnModelOnNonzerosMatchesItOnTheDenseFeatures) {
  const graph::Graph g = graph::generate_synthetic(graph::synthetic_preset("tiny"), {/*seed=*/3});
  torch::manual_seed(6);
  const Tensor x = sparse_matrix(g.num_nodes, 50, 0.05);
  ModelOptions options{ModelKind::kGcn, /*in_features=*/50, /*hidden=*/8, /*num_classes=*/4};
  options.input_dropout = 0.5;
  GnnModel model(options);
  model->train();
  std::vector<LayerGraph> graphs(
      2, full_layer_graph(g, /*begin=*/0, /*end=*/g.num_nodes, Normalization::kGcn));
  std::vector<std::vector<Tensor>> results;
  for (const FeatureMatrix& input : {FeatureMatrix(x), FeatureMatrix(x).with_nonzeros(0.1)}) {
    ASSERT_EQ(input.nonzeros() != nullptr, !results.empty());
    model->zero_grad();
    torch::manual_seed(7);
    const Tensor out = model->forward(input, graphs);
    out.select(1, 0).sum().backward();
    std::vector<Tensor> r{out.detach()};
    for (const Tensor& p : model->parameters()) r.push_back(p.grad().clone());
    results.push_back(r);
  }
  for (size_t k = 0; k < results[0].size(); ++k)
    EXPECT_TRUE(torch::allclose(results[1][k], results[0][k], 1e-5, 1e-6)) << "tensor " << k;
}

}  // namespace
}  // namespace edgegnn::nn
