#include "nn/gcn_conv.h"

#include <gtest/gtest.h>

#include <functional>
#include <sstream>

#include "nn/layer_test_util.h"

namespace edgegnn::nn {
namespace {

using torch::Tensor;

graph::Graph make_graph(int64_t num_nodes, const graph::EdgeList& edges) {
  graph::CsrOptions options;
  options.keep_self_loops = true;
  auto [rowptr, col] = graph::build_in_csr(num_nodes, edges, options, "test");
  graph::Graph g;
  g.num_nodes = num_nodes;
  g.rowptr = graph::Buffer(std::move(rowptr));
  g.col = graph::Buffer(std::move(col));
  return g;
}

// 5 nodes, undirected edges 0-1 1-2 2-3 3-4 0-2 1-4 and a self-loop on 2.
// In-neighbours: 0 <- {1, 2}, 1 <- {0, 2, 4}, 2 <- {0, 1, 2, 3}, 3 <- {2, 4},
// 4 <- {1, 3}; degrees of A+I (the loop once): 3, 4, 4, 3, 3.
graph::Graph five_node_graph() {
  return make_graph(/*num_nodes=*/5,
                    {/*src=*/{0, 1, 2, 3, 0, 1, 2}, /*dst=*/{1, 2, 3, 4, 2, 4, 2}});
}

// D^-1/2 (A+I) D^-1/2 as a dense matrix, row = dst. The diagonal is 1 whether
// or not the graph stores the self-loop, as with PyG's add_remaining_self_loops.
Tensor dense_gcn_adjacency(const graph::Graph& g) {
  Tensor a = torch::zeros({g.num_nodes, g.num_nodes});
  auto acc = a.accessor<float, 2>();
  for (int64_t v = 0; v < g.num_nodes; ++v)
    for (int32_t u : g.in_neighbors(v)) acc[v][u] = 1;
  a.fill_diagonal_(1);
  Tensor d = a.sum(1).rsqrt();
  return d.unsqueeze(1) * a * d.unsqueeze(0);
}

Tensor dense_gcn(const Tensor& adjacency, const Tensor& x, GCNConv& conv) {
  auto p = conv->named_parameters();
  return adjacency.matmul(x).matmul(p["lin.weight"].t()) + p["bias"];
}

using test::expect_same_values_and_gradients;

// A nonzero bias, so that the tests see it (GCNConv starts it at zero, as PyG).
void randomize_bias(GCNConv& conv) {
  torch::NoGradGuard no_grad;
  conv->named_parameters()["bias"].normal_();
}

// Full batch: the layer's input has num_dst rows, so it transforms first exactly
// when that narrows the rows it aggregates (out < in), and aggregates first when
// out > in. Both orders must give the dense formula.
void expect_full_batch_matches_dense(int64_t in_features, int64_t out_features) {
  torch::manual_seed(0);
  graph::Graph g = five_node_graph();
  GCNConv conv(in_features, out_features);
  randomize_bias(conv);
  LayerGraph lg = full_layer_graph(g, /*begin=*/0, /*end=*/g.num_nodes, Normalization::kGcn);
  Tensor adjacency = dense_gcn_adjacency(g);
  expect_same_values_and_gradients([&](const Tensor& x) { return conv->forward(x, lg); },
                                   [&](const Tensor& x) { return dense_gcn(adjacency, x, conv); },
                                   torch::randn({g.num_nodes, in_features}), g.num_nodes,
                                   conv->out_features(), *conv);
}

TEST(GCNConv, FullBatchNarrowingLayerTransformsFirstAndMatchesDense) {
  expect_full_batch_matches_dense(/*in_features=*/6, /*out_features=*/2);
}

TEST(GCNConv, FullBatchWideningLayerAggregatesFirstAndMatchesDense) {
  expect_full_batch_matches_dense(/*in_features=*/2, /*out_features=*/6);
}

TEST(GCNConv, ExistingSelfLoopCountsOnceInDegree) {
  // 0 <- {1}, 1 <- {0, 1}: both degrees are 2, so every weight of A+I is 1/2.
  graph::Graph g = make_graph(/*num_nodes=*/2, {/*src=*/{0, 1}, /*dst=*/{1, 1}});
  GCNConv conv(/*in_features=*/1, /*out_features=*/1);
  {
    torch::NoGradGuard no_grad;
    conv->named_parameters()["lin.weight"].fill_(1);
  }
  LayerGraph lg = full_layer_graph(g, /*begin=*/0, /*end=*/2, Normalization::kGcn);
  Tensor out = conv->forward(torch::tensor({{1.0f}, {3.0f}}), lg);
  EXPECT_TRUE(torch::allclose(out, torch::tensor({{2.0f}, {2.0f}}))) << out;
}

TEST(GCNConv, SampledBlockWeighsEdgesWithFullGraphDegrees) {
  torch::manual_seed(1);
  graph::Graph g = five_node_graph();
  // Seeds {2, 4}: 2 sampled {2 (its self-loop), 3} of its 4 in-neighbours, 4
  // sampled {1} of 2. Node 2 gets one self-loop, not two.
  sample::Block block{/*dst_ids=*/{2, 4}, /*src_ids=*/{2, 4, 3, 1}, /*rowptr=*/{0, 2, 3},
                      /*col=*/{0, 2, 3}};
  Tensor sampled = torch::eye(g.num_nodes);
  sampled[2][3] = 1;
  sampled[4][1] = 1;
  Tensor adjacency = (dense_gcn_adjacency(g) * sampled)
                         .index_select(0, torch::tensor(block.dst_ids, torch::kInt64));
  Tensor src_rows = torch::tensor(block.src_ids, torch::kInt64);
  GCNConv conv(/*in_features=*/3, /*out_features=*/2);
  randomize_bias(conv);
  Tensor x = torch::randn({g.num_nodes, 3});
  for (bool global_input : {false, true}) {
    SCOPED_TRACE(global_input ? "global input" : "local input");
    LayerGraph lg = block_layer_graph(block, global_input, Normalization::kGcn, g);
    expect_same_values_and_gradients(
        [&](const Tensor& input) {
          return conv->forward(global_input ? input : input.index_select(0, src_rows), lg);
        },
        [&](const Tensor& input) { return dense_gcn(adjacency, input, conv); }, x, block.num_dst(),
        conv->out_features(), *conv);
  }
}

TEST(GCNConv, NodeChunkGivesItsRowsOfTheFullBatch) {
  torch::manual_seed(2);
  graph::Graph g = five_node_graph();
  GCNConv conv(/*in_features=*/3, /*out_features=*/2);
  randomize_bias(conv);
  Tensor x = torch::randn({g.num_nodes, 3});
  Tensor full =
      conv->forward(x, full_layer_graph(g, /*begin=*/0, /*end=*/g.num_nodes, Normalization::kGcn));
  Tensor chunk = conv->forward(x, full_layer_graph(g, /*begin=*/2, /*end=*/5, Normalization::kGcn));
  EXPECT_TRUE(torch::allclose(chunk, full.narrow(0, 2, 3), /*rtol=*/1e-6, /*atol=*/1e-6))
      << chunk << "\nfull batch\n"
      << full;
}

TEST(GCNConv, PrintsLikePyG) {
  GCNConv conv(/*in_features=*/4, /*out_features=*/3);
  std::ostringstream out;
  conv->pretty_print(out);
  EXPECT_EQ(out.str(), "GCNConv(4, 3)");
}

}  // namespace
}  // namespace edgegnn::nn
