#include "nn/sage_conv.h"

#include <gtest/gtest.h>

#include <functional>
#include <sstream>

#include "nn/layer_test_util.h"

namespace edgegnn::nn {
namespace {

using torch::Tensor;

// 10 nodes; in-neighbours 7 <- {2, 3, 9}, 3 <- {5, 7}, 4 <- {} (both directions
// stored). SAGEConv reads no degrees, but block_layer_graph takes the graph.
graph::Graph ten_node_graph() {
  graph::EdgeList edges{/*src=*/{2, 3, 9, 5}, /*dst=*/{7, 7, 7, 3}};
  auto [rowptr, col] = graph::build_in_csr(/*num_nodes=*/10, edges, {}, "test");
  graph::Graph g;
  g.num_nodes = 10;
  g.rowptr = graph::Buffer(std::move(rowptr));
  g.col = graph::Buffer(std::move(col));
  return g;
}

// block.h's example (seeds {7, 3}; 7 sampled {3, 9}, 3 sampled {5}) plus seed 4,
// which has no neighbours to sample.
sample::Block example_block() {
  return {/*dst_ids=*/{7, 3, 4}, /*src_ids=*/{7, 3, 4, 9, 5}, /*rowptr=*/{0, 2, 3, 3},
          /*col=*/{1, 3, 4}};
}

// The block's edges as PyG's edge_index: each edge's dst row, and its source as
// a local src row or (`global_ids`) a global node id.
Tensor edge_dst(const sample::Block& b) {
  Tensor rowptr = torch::tensor(b.rowptr, torch::kInt64);
  return torch::repeat_interleave(torch::arange(b.num_dst()), rowptr.diff());
}
Tensor edge_src(const sample::Block& b, bool global_ids) {
  Tensor col = torch::tensor(b.col, torch::kInt64);
  return global_ids ? torch::tensor(b.src_ids, torch::kInt64).index_select(0, col) : col;
}

// PyG's SAGEConv in plain torch ops: messages x[src] are summed onto their dst
// rows with index_add_ and divided by the row's edge count (empty rows stay 0),
// then out = lin_l(mean) + lin_r(x[dst_rows]).
Tensor reference_sage(const Tensor& x, const Tensor& src, const Tensor& dst, const Tensor& dst_rows,
                      SAGEConv& conv) {
  auto p = conv->named_parameters();
  const int64_t num_dst = dst_rows.size(0);
  Tensor sum = torch::zeros({num_dst, x.size(1)}).index_add_(0, dst, x.index_select(0, src));
  Tensor count = torch::zeros({num_dst}).index_add_(0, dst, torch::ones({dst.size(0)}));
  Tensor mean = sum / count.clamp_min(1).unsqueeze(1);
  return torch::linear(mean, p["lin_l.weight"], p["lin_l.bias"]) +
         torch::linear(x.index_select(0, dst_rows), p["lin_r.weight"]);
}

using test::expect_same_values_and_gradients;

TEST(SAGEConv, LocalInputMatchesIndexAddReference) {
  torch::manual_seed(0);
  graph::Graph g = ten_node_graph();
  sample::Block block = example_block();
  SAGEConv conv(/*in_features=*/4, /*out_features=*/3);
  LayerGraph lg = block_layer_graph(block, /*global_input=*/false, Normalization::kNone, g);
  Tensor x = torch::randn({block.num_src(), 4});
  Tensor src = edge_src(block, /*global_ids=*/false), dst = edge_dst(block);
  Tensor dst_rows = torch::arange(block.num_dst());
  expect_same_values_and_gradients(
      [&](const Tensor& input) { return conv->forward(input, lg); },
      [&](const Tensor& input) { return reference_sage(input, src, dst, dst_rows, conv); }, x,
      block.num_dst(), conv->out_features(), *conv);
}

TEST(SAGEConv, GlobalInputMatchesIndexAddReference) {
  torch::manual_seed(1);
  graph::Graph g = ten_node_graph();
  sample::Block block = example_block();
  SAGEConv conv(/*in_features=*/4, /*out_features=*/3);
  LayerGraph lg = block_layer_graph(block, /*global_input=*/true, Normalization::kNone, g);
  Tensor x = torch::randn({g.num_nodes, 4});
  Tensor src = edge_src(block, /*global_ids=*/true), dst = edge_dst(block);
  Tensor dst_rows = torch::tensor(block.dst_ids, torch::kInt64);
  expect_same_values_and_gradients(
      [&](const Tensor& input) { return conv->forward(input, lg); },
      [&](const Tensor& input) { return reference_sage(input, src, dst, dst_rows, conv); }, x,
      block.num_dst(), conv->out_features(), *conv);
}

TEST(SAGEConv, GlobalInputEqualsLocalInputOfGatheredRows) {
  torch::manual_seed(2);
  graph::Graph g = ten_node_graph();
  sample::Block block = example_block();
  SAGEConv conv(/*in_features=*/4, /*out_features=*/3);
  Tensor x = torch::randn({g.num_nodes, 4});
  Tensor gathered = x.index_select(0, torch::tensor(block.src_ids, torch::kInt64));
  Tensor local = conv->forward(
      gathered, block_layer_graph(block, /*global_input=*/false, Normalization::kNone, g));
  Tensor global =
      conv->forward(x, block_layer_graph(block, /*global_input=*/true, Normalization::kNone, g));
  EXPECT_TRUE(torch::allclose(local, global, /*rtol=*/1e-6, /*atol=*/1e-6));
}

TEST(SAGEConv, DstWithoutNeighborsGetsRootTermAndBiasOnly) {
  torch::manual_seed(3);
  graph::Graph g = ten_node_graph();
  sample::Block block = example_block();
  SAGEConv conv(/*in_features=*/4, /*out_features=*/3);
  auto p = conv->named_parameters();
  Tensor x = torch::randn({block.num_src(), 4});
  Tensor out =
      conv->forward(x, block_layer_graph(block, /*global_input=*/false, Normalization::kNone, g));
  // Node 4 is dst row 2: mean over no neighbours is 0, so lin_l adds its bias alone.
  Tensor expected = torch::linear(x[2], p["lin_r.weight"]) + p["lin_l.bias"];
  EXPECT_TRUE(torch::allclose(out[2], expected, /*rtol=*/1e-6, /*atol=*/1e-6))
      << out[2] << "\nexpected\n"
      << expected;
}

// Features need no gradient, so the first layer takes its one-GEMM path: it
// must compute what the two products do, and give the weights their gradients.
TEST(SAGEConv, InputWithoutGradientMatchesTheReferenceAndItsWeightGradients) {
  torch::manual_seed(4);
  graph::Graph g = ten_node_graph();
  sample::Block block = example_block();
  SAGEConv conv(/*in_features=*/4, /*out_features=*/3);
  const Tensor x = torch::randn({g.num_nodes, 4});
  const Tensor src = edge_src(block, /*global_ids=*/true), dst = edge_dst(block);
  const Tensor dst_rows = torch::tensor(block.dst_ids, torch::kInt64);
  const Tensor probe = torch::randn({block.num_dst(), 3});
  std::vector<Tensor> weights;
  for (const auto& p : conv->named_parameters()) weights.push_back(p.value());
  auto values_and_gradients = [&](const Tensor& out) {
    std::vector<Tensor> all = torch::autograd::grad({(out * probe).sum()}, weights);
    all.insert(all.begin(), out.detach());
    return all;
  };
  const FeatureMatrix compressed = FeatureMatrix::float16(x.to(torch::kHalf));
  for (const FeatureMatrix& input : {FeatureMatrix(x), compressed}) {
    std::vector<Tensor> actual = values_and_gradients(conv->forward(
        input, block_layer_graph(block, /*global_input=*/true, Normalization::kNone, g)));
    std::vector<Tensor> expected =
        values_and_gradients(reference_sage(input.widen(), src, dst, dst_rows, conv));
    ASSERT_EQ(actual.size(), 4u);
    for (size_t k = 0; k < actual.size(); ++k)
      EXPECT_TRUE(torch::allclose(actual[k], expected[k], /*rtol=*/1e-5, /*atol=*/1e-6))
          << "output, then lin_l.weight, lin_l.bias, lin_r.weight: " << k << "\n"
          << actual[k] << "\nreference:\n"
          << expected[k];
  }
}

// Training reuses the first layer's [mean | root] storage from batch to batch,
// never while a batch's graph still holds it: two batches in flight get the
// gradients each gets alone.
TEST(SAGEConv, BatchesInFlightEachKeepTheirOwnFirstLayerPair) {
  torch::manual_seed(5);
  graph::Graph g = ten_node_graph();
  const LayerGraph lg =
      block_layer_graph(example_block(), /*global_input=*/true, Normalization::kNone, g);
  SAGEConv conv(/*in_features=*/4, /*out_features=*/3);
  const std::vector<Tensor> weights = conv->parameters();
  auto gradients = [&](const Tensor& out) { return torch::autograd::grad({out.sum()}, weights); };
  const Tensor x1 = torch::randn({g.num_nodes, 4}), x2 = torch::randn({g.num_nodes, 4});
  const std::vector<Tensor> alone1 = gradients(conv->forward(x1, lg));
  const std::vector<Tensor> alone2 = gradients(conv->forward(x2, lg));
  const Tensor out1 = conv->forward(x1, lg);
  const Tensor out2 = conv->forward(x2, lg);
  const std::vector<Tensor> in_flight1 = gradients(out1), in_flight2 = gradients(out2);
  for (size_t k = 0; k < weights.size(); ++k) {
    EXPECT_TRUE(in_flight1[k].equal(alone1[k])) << "batch 1, parameter " << k;
    EXPECT_TRUE(in_flight2[k].equal(alone2[k])) << "batch 2, parameter " << k;
  }
}

TEST(SAGEConv, PrintsLikePyG) {
  SAGEConv conv(/*in_features=*/4, /*out_features=*/3);
  std::ostringstream out;
  conv->pretty_print(out);
  EXPECT_EQ(out.str(), "SAGEConv(4, 3, aggr=mean)");
}

}  // namespace
}  // namespace edgegnn::nn
