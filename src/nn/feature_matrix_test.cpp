#include "nn/feature_matrix.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "nn/csr_aggregate.h"
#include "nn/gcn_conv.h"
#include "nn/sage_conv.h"

namespace edgegnn::nn {
namespace {

using torch::Tensor;

// Random CSR: num_dst rows, each with 0..max_degree columns < num_src (row 0
// empty, to cover it).
CsrAdjacency random_csr(int64_t num_dst, int64_t num_src, int64_t max_degree) {
  std::vector<int64_t> rowptr{0, 0};
  std::vector<int32_t> col;
  for (int64_t i = 1; i < num_dst; ++i) {
    const int64_t degree = torch::randint(1, max_degree + 1, {1}).item<int64_t>();
    Tensor picks = torch::randperm(num_src).narrow(0, 0, std::min(degree, num_src));
    for (int64_t j = 0; j < picks.size(0); ++j) col.push_back(picks[j].item<int32_t>());
    rowptr.push_back(static_cast<int64_t>(col.size()));
  }
  return {torch::tensor(rowptr, torch::kInt64), torch::tensor(col, torch::kInt32), Tensor()};
}

// A float16 matrix and an int8 one (a constant column included) of rows x cols.
std::vector<FeatureMatrix> compressed_matrices(int64_t rows, int64_t cols) {
  Tensor scale = torch::rand({cols}) * 0.1;
  scale[0] = 0;
  return {FeatureMatrix::float16(torch::randn({rows, cols}).to(torch::kHalf)),
          FeatureMatrix::int8(torch::randint(0, 256, {rows, cols}).to(torch::kUInt8), scale,
                              torch::randn({cols}))};
}

TEST(FeatureMatrix, WidensAsDequantisedPerColumn) {
  FeatureMatrix m = FeatureMatrix::int8(torch::tensor({0, 255, 10, 20}, torch::kUInt8).view({2, 2}),
                                        torch::tensor({0.5f, 2.0f}), torch::tensor({1.0f, -3.0f}));
  EXPECT_TRUE(torch::equal(m.widen(), torch::tensor({1.0f, 507.0f, 6.0f, 37.0f}).view({2, 2})));
  EXPECT_TRUE(torch::equal(m.rows(torch::tensor({1}, torch::kInt64)), m.widen().narrow(0, 1, 1)));
  EXPECT_TRUE(torch::equal(m.rows(/*begin=*/1, /*count=*/1), m.widen().narrow(0, 1, 1)));
  EXPECT_EQ(m.memory_bytes(), 4 + 2 * 4 + 2 * 4);
}

TEST(FeatureMatrix, AFloat32MatrixIsItsOwnTensor) {
  Tensor x = torch::randn({5, 3});
  FeatureMatrix m = x;
  EXPECT_FALSE(m.compressed());
  EXPECT_TRUE(m.widen().is_same(x));
  EXPECT_TRUE(torch::equal(m.rows(/*begin=*/2, /*count=*/2), x.narrow(0, 2, 2)));
  EXPECT_TRUE(m.map_rows([](const Tensor& rows) { return rows; }).is_same(x));
}

TEST(FeatureMatrix, MapRowsGoesChunkByChunkLikeOneCall) {
  torch::manual_seed(1);
  Tensor w = torch::randn({1024, 4});
  // 2500 rows of 4 KiB widened: three chunks of at most 4 MiB.
  for (const FeatureMatrix& m : compressed_matrices(/*rows=*/2500, /*cols=*/1024)) {
    Tensor chunked = m.map_rows([&](const Tensor& rows) {
      EXPECT_LE(rows.size(0), 1024);
      return rows.matmul(w);
    });
    EXPECT_TRUE(torch::allclose(chunked, m.widen().matmul(w), /*rtol=*/1e-5, /*atol=*/1e-5));
  }
}

TEST(FeatureMatrix, MapRowsOfARangeWidensOnlyThoseRowsAndPassesOnNothing) {
  torch::manual_seed(5);
  for (const FeatureMatrix& m : compressed_matrices(/*rows=*/30, /*cols=*/6)) {
    Tensor same = m.map_rows([](const Tensor& rows) { return rows; }, /*begin=*/7, /*count=*/11);
    EXPECT_TRUE(torch::equal(same, m.widen().narrow(0, 7, 11)));
    // As GCN's root(): a layer without a root term returns nothing.
    EXPECT_FALSE(m.map_rows([](const Tensor&) { return Tensor(); }, 0, 30).defined());
  }
}

TEST(FeatureMatrix, CompressedAggregationEqualsAggregatingTheWidenedRows) {
  torch::manual_seed(2);
  for (const FeatureMatrix& m : compressed_matrices(/*rows=*/53, /*cols=*/19)) {
    CsrAdjacency a = random_csr(/*num_dst=*/37, /*num_src=*/53, /*max_degree=*/9);
    for (bool weighted : {false, true}) {
      a.weight = weighted ? torch::rand({a.col.size(0)}) : Tensor();
      for (auto aggregation : {Aggregation::kSum, Aggregation::kMean}) {
        if (weighted && aggregation == Aggregation::kMean) continue;
        Tensor out = csr_aggregate(m, a, aggregation);
        EXPECT_EQ(out.scalar_type(), torch::kFloat32);
        EXPECT_FALSE(out.requires_grad());
        EXPECT_TRUE(torch::allclose(out, csr_aggregate(m.widen(), a, aggregation),
                                    /*rtol=*/1e-5, /*atol=*/1e-4))
            << graph::feature_dtype_name(m.dtype()) << " weighted " << weighted;
        EXPECT_TRUE(torch::equal(out[0], torch::zeros({19}))) << "the empty row";
      }
    }
  }
}

TEST(FeatureMatrix, FirstLayerForwardOnCompressedRowsMatchesTheWidenedMatrix) {
  torch::manual_seed(3);
  for (const FeatureMatrix& m : compressed_matrices(/*rows=*/40, /*cols=*/12)) {
    LayerGraph sage_graph;
    sage_graph.adjacency = random_csr(/*num_dst=*/9, /*num_src=*/40, /*max_degree=*/6);
    sage_graph.num_dst = 9;
    sage_graph.dst_rows = torch::randperm(40).narrow(0, 0, 9);
    LayerGraph gcn_graph = sage_graph;
    gcn_graph.adjacency.weight = torch::rand({gcn_graph.adjacency.col.size(0)});
    SAGEConv sage(12, 5);
    GCNConv gcn(12, 5);
    for (auto [conv, lg] :
         {std::pair<GraphConv*, LayerGraph*>{sage.get(), &sage_graph}, {gcn.get(), &gcn_graph}}) {
      Tensor out = conv->forward(m, *lg);
      EXPECT_TRUE(torch::allclose(out, conv->forward(m.widen(), *lg), /*rtol=*/1e-5,
                                  /*atol=*/1e-4))
          << graph::feature_dtype_name(m.dtype());
      // The weights learn from compressed input.
      out.sum().backward();
      for (const Tensor& p : conv->parameters()) EXPECT_TRUE(p.grad().defined());
    }
  }
}

// m's rows [0, 11), [11, 11) and [11, rows) as three matrices stacked.
FeatureMatrix stack_in_three(const FeatureMatrix& m) {
  const Tensor v = m.compressed() ? m.values() : m.widen();
  const int64_t rows = v.size(0);
  return FeatureMatrix::stacked({m.like(v.narrow(0, 0, 11).clone()),
                                 m.like(v.narrow(0, 11, 0).clone()),
                                 m.like(v.narrow(0, 11, rows - 11).clone())});
}

TEST(FeatureMatrix, AStackedMatrixReadsAsItsPartsJoined) {
  torch::manual_seed(4);
  std::vector<FeatureMatrix> matrices = compressed_matrices(/*rows=*/53, /*cols=*/19);
  matrices.emplace_back(torch::randn({53, 19}));
  for (const FeatureMatrix& m : matrices) {
    const std::string dtype = graph::feature_dtype_name(m.dtype());
    const FeatureMatrix s = stack_in_three(m);
    ASSERT_TRUE(s.stacked());
    EXPECT_EQ(s.num_rows(), 53);
    EXPECT_EQ(s.num_columns(), 19);
    EXPECT_EQ(s.dtype(), m.dtype());
    EXPECT_TRUE(torch::equal(s.widen(), m.widen())) << dtype;
    const Tensor index = torch::tensor({52, 0, 11, 10, 30}, torch::kInt64);
    EXPECT_TRUE(torch::equal(s.rows(index), m.rows(index))) << dtype;
    EXPECT_TRUE(torch::equal(s.rows(/*begin=*/9, /*count=*/5), m.widen().narrow(0, 9, 5))) << dtype;
    CsrAdjacency a = random_csr(/*num_dst=*/37, /*num_src=*/53, /*max_degree=*/9);
    // Summed row by row in the same order: equal to the bit.
    EXPECT_TRUE(torch::equal(csr_aggregate(s, a, Aggregation::kMean),
                             csr_aggregate(m, a, Aggregation::kMean)))
        << dtype;
    a.weight = torch::rand({a.col.size(0)});
    EXPECT_TRUE(torch::equal(csr_aggregate(s, a), csr_aggregate(m, a))) << dtype;
  }
}

TEST(FeatureMatrix, StackingRefusesMixedDtypesWidthsAndGradients) {
  const FeatureMatrix f16 = compressed_matrices(/*rows=*/4, /*cols=*/3)[0];
  EXPECT_THROW(FeatureMatrix::stacked({FeatureMatrix(torch::randn({4, 3})), f16}), Error);
  EXPECT_THROW(FeatureMatrix::stacked(
                   {FeatureMatrix(torch::randn({4, 3})), FeatureMatrix(torch::randn({4, 2}))}),
               Error);
  EXPECT_THROW(
      FeatureMatrix::stacked({FeatureMatrix(torch::randn({4, 3}, torch::requires_grad()))}), Error);
  EXPECT_THROW(FeatureMatrix::stacked({}), Error);
}

}  // namespace
}  // namespace edgegnn::nn
