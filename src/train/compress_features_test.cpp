#include "train/compress_features.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "graph/binary_format.h"
#include "test_support/datasets.h"
#include "train/graph_tensors.h"

namespace edgegnn::train {
namespace {

using graph::FeatureDtype;

// A graph without edges whose features are `x` (rows, cols).
graph::Graph graph_with_features(const torch::Tensor& x) {
  const int64_t n = x.size(0);
  graph::GraphArrays a;
  a.name = "features";
  a.num_features = x.size(1);
  a.num_classes = 1;
  a.rowptr.assign(n + 1, 0);
  a.features.assign(x.data_ptr<float>(), x.data_ptr<float>() + x.numel());
  a.labels.assign(n, 0);
  a.train_mask.assign(n, 1);
  a.val_mask.assign(n, 0);
  a.test_mask.assign(n, 0);
  return graph::make_graph(std::move(a), "features");
}

// 30 K rows, so that conversion takes two chunks; columns of different
// ranges, one non-negative with minimum 0 and one constant.
torch::Tensor test_features() {
  torch::manual_seed(4);
  torch::Tensor x = torch::randn({30000, 40}) * torch::arange(1, 41) + torch::arange(0, 40);
  x.select(1, 0).copy_(torch::rand({30000}).clamp_min(0.5) - 0.5);
  x.select(1, 1).fill_(3.25);
  return x;
}

TEST(CompressFeatures, Float16KeepsEveryValueWithinHalfPrecisionAndFreesTheFloat32Matrix) {
  torch::Tensor x = test_features();
  graph::Graph g = graph_with_features(x);
  compress_features(g, FeatureDtype::kFloat16);
  EXPECT_TRUE(g.features.empty());
  EXPECT_EQ(g.packed_features.dtype, FeatureDtype::kFloat16);
  EXPECT_EQ(g.packed_features.memory_bytes(), static_cast<size_t>(x.numel() * 2));
  torch::Tensor y = borrow_features(g).widen();
  // float16 keeps 11 significant bits: relative error at most 2^-11.
  EXPECT_TRUE(((y - x).abs() <= x.abs() * std::ldexp(1.0, -11) + 1e-7).all().item<bool>());
}

TEST(CompressFeatures, Int8KeepsEveryValueWithinHalfAStepOfItsColumn) {
  torch::Tensor x = test_features();
  graph::Graph g = graph_with_features(x);
  compress_features(g, FeatureDtype::kInt8);
  EXPECT_TRUE(g.features.empty());
  EXPECT_EQ(g.packed_features.memory_bytes(), static_cast<size_t>(x.numel() + 2 * 40 * 4));
  nn::FeatureMatrix m = borrow_features(g);
  torch::Tensor step = (x.amax(0) - x.amin(0)) / 255;
  EXPECT_TRUE(torch::allclose(m.scale(), step));
  torch::Tensor y = m.widen();
  EXPECT_TRUE(((y - x).abs() <= step * 0.5001 + 1e-5).all().item<bool>());
  EXPECT_TRUE(torch::equal(y.select(1, 1), x.select(1, 1))) << "a constant column is exact";
  torch::Tensor zeros = x.select(1, 0).eq(0);
  EXPECT_TRUE(y.select(1, 0).masked_select(zeros).eq(0).all().item<bool>()) << "0 is the minimum";
}

TEST(CompressFeatures, MappedFeaturesPackAsOwnedOnes) {
  for (FeatureDtype dtype : {FeatureDtype::kFloat16, FeatureDtype::kInt8}) {
    graph::Graph owned = graph_with_features(test_features());
    const auto dir = test::scratch_dir("mapped-features");
    graph::write_binary_graph(owned, dir);
    graph::Graph mapped = graph::open_binary_graph(dir);
    ASSERT_TRUE(mapped.features.is_mapped());
    compress_features(owned, dtype);
    compress_features(mapped, dtype);
    EXPECT_TRUE(mapped.features.empty());
    EXPECT_TRUE(torch::equal(borrow_features(mapped).values(), borrow_features(owned).values()))
        << graph::feature_dtype_name(dtype);
    EXPECT_EQ(mapped.packed_features.offset, owned.packed_features.offset);
  }
}

TEST(CompressFeatures, Float16RefusesAValueBeyondItsRange) {
  torch::Tensor x = torch::zeros({3, 2});
  x[2][1] = -1e5;
  graph::Graph g = graph_with_features(x);
  try {
    compress_features(g, FeatureDtype::kFloat16);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--feature-dtype float16: feature 1 of node 2"),
              std::string::npos)
        << e.what();
  }
}

TEST(CompressFeatures, Float32LeavesTheGraphAsItWas) {
  graph::Graph g = graph_with_features(test_features());
  const float* before = g.features.data();
  compress_features(g, FeatureDtype::kFloat32);
  EXPECT_EQ(g.features.data(), before);
  EXPECT_TRUE(g.packed_features.empty());
}

}  // namespace
}  // namespace edgegnn::train
