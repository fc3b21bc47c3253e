#include "nn/gat_conv.h"

#include <gtest/gtest.h>

#include <sstream>

#include "nn/layer_test_util.h"

namespace edgegnn::nn {
namespace {

using torch::Tensor;

// 5 nodes, undirected edges 0-1 1-2 2-3 3-4 0-2 1-4 and a self-loop on 2 (kept,
// so the layer must not count it twice).
graph::Graph five_node_graph() {
  graph::CsrOptions options;
  options.keep_self_loops = true;
  auto [rowptr, col] = graph::build_in_csr(
      5, {/*src=*/{0, 1, 2, 3, 0, 1, 2}, /*dst=*/{1, 2, 3, 4, 2, 4, 2}}, options, "test");
  graph::Graph g;
  g.num_nodes = 5;
  g.rowptr = graph::Buffer(std::move(rowptr));
  g.col = graph::Buffer(std::move(col));
  return g;
}

// GAT as dense matrices: `mask` (dst x src) has a 1 where dst reads src,
// self-loops included. Softmax over each row's unmasked entries, per head.
Tensor dense_gat(const Tensor& mask, const Tensor& x_src, int64_t num_dst, GATConv& conv,
                 int64_t heads, int64_t width, bool concat) {
  auto p = conv->named_parameters();
  Tensor h = x_src.matmul(p["lin_src.weight"].t()).view({-1, heads, width});  // (src, H, C)
  Tensor src_score = (h * p["att_src"]).sum(-1);                              // (src, H)
  Tensor dst_score = (h.narrow(0, 0, num_dst) * p["att_dst"]).sum(-1);        // (dst, H)
  Tensor logits = torch::leaky_relu(dst_score.t().unsqueeze(2) + src_score.t().unsqueeze(1), 0.2);
  logits = logits.masked_fill(mask.unsqueeze(0) == 0, -INFINITY);  // (H, dst, src)
  Tensor alpha = torch::softmax(logits, -1);
  Tensor out = alpha.matmul(h.transpose(0, 1)).transpose(0, 1);  // (dst, H, C)
  out = concat ? out.reshape({num_dst, heads * width}) : out.mean(1);
  return out + p["bias"];
}

// A nonzero bias, so that the tests see it (GATConv starts it at zero, as PyG).
void randomize_bias(GATConv& conv) {
  torch::NoGradGuard no_grad;
  conv->named_parameters()["bias"].normal_();
}

Tensor full_mask(const graph::Graph& g) {
  Tensor mask = torch::eye(g.num_nodes);
  for (int64_t v = 0; v < g.num_nodes; ++v)
    for (int32_t u : g.in_neighbors(v)) mask[v][u] = 1;
  return mask;
}

using test::expect_same_values_and_gradients;

void expect_full_batch_matches_dense(int64_t heads, bool concat) {
  torch::manual_seed(0);
  graph::Graph g = five_node_graph();
  GATConv conv(/*in_features=*/4, /*out_per_head=*/3, GATOptions{.heads = heads, .concat = concat});
  randomize_bias(conv);
  LayerGraph lg = full_layer_graph(g, 0, g.num_nodes, Normalization::kSelfLoops);
  Tensor mask = full_mask(g);
  expect_same_values_and_gradients(
      [&](const Tensor& x) { return conv->forward(x, lg); },
      [&](const Tensor& x) { return dense_gat(mask, x, g.num_nodes, conv, heads, 3, concat); },
      torch::randn({g.num_nodes, 4}), g.num_nodes, conv->out_features(), *conv);
}

TEST(GATConv, FullBatchConcatenatedHeadsMatchDense) {
  expect_full_batch_matches_dense(/*heads=*/3, /*concat=*/true);
}

TEST(GATConv, FullBatchAveragedHeadsMatchDense) {
  expect_full_batch_matches_dense(/*heads=*/2, /*concat=*/false);
}

TEST(GATConv, SampledBlockGlobalAndLocalInputMatchDense) {
  torch::manual_seed(1);
  graph::Graph g = five_node_graph();
  // Seeds {2, 4}: 2 sampled {2 (its self-loop), 3}, 4 sampled {1}. Node 2 gets
  // one self-loop, not two.
  sample::Block block{/*dst_ids=*/{2, 4}, /*src_ids=*/{2, 4, 3, 1}, /*rowptr=*/{0, 2, 3},
                      /*col=*/{0, 2, 3}};
  Tensor mask = torch::tensor({{1.0f, 0.0f, 1.0f, 0.0f}, {0.0f, 1.0f, 0.0f, 1.0f}});
  Tensor src_rows = torch::tensor(block.src_ids, torch::kInt64);
  GATConv conv(/*in_features=*/3, /*out_per_head=*/2, GATOptions{.heads = 2});
  randomize_bias(conv);
  Tensor x = torch::randn({g.num_nodes, 3});
  for (bool global_input : {false, true}) {
    SCOPED_TRACE(global_input ? "global input" : "local input");
    LayerGraph lg = block_layer_graph(block, global_input, Normalization::kSelfLoops, g);
    EXPECT_EQ(lg.src_rows.defined(), global_input);
    expect_same_values_and_gradients(
        [&](const Tensor& input) {
          return conv->forward(global_input ? input : input.index_select(0, src_rows), lg);
        },
        [&](const Tensor& input) {
          return dense_gat(mask, input.index_select(0, src_rows), 2, conv, 2, 2, true);
        },
        x, block.num_dst(), conv->out_features(), *conv);
  }
}

// A pipeline's micro-batch block keeps the batch's sources, its dst nodes
// among them anywhere, and sources it never reads: the gathered input holds
// the dst nodes, then only the sources read.
TEST(GATConv, MicroBatchBlockGathersOnlyTheSourcesItReads) {
  torch::manual_seed(6);
  graph::Graph g = five_node_graph();
  // The same edges as above (2 <- {2, 3}, 4 <- {1}); node 0 is never read.
  sample::Block block{/*dst_ids=*/{2, 4}, /*src_ids=*/{3, 0, 2, 1, 4}, /*rowptr=*/{0, 2, 3},
                      /*col=*/{2, 0, 3}};
  LayerGraph lg = block_layer_graph(block, /*global_input=*/true, Normalization::kSelfLoops, g);
  EXPECT_TRUE(torch::equal(lg.src_rows, torch::tensor({2, 4, 3, 1}, torch::kInt64))) << lg.src_rows;
  Tensor mask = torch::tensor({{1.0f, 0.0f, 1.0f, 0.0f}, {0.0f, 1.0f, 0.0f, 1.0f}});
  GATConv conv(/*in_features=*/3, /*out_per_head=*/2, GATOptions{.heads = 2});
  randomize_bias(conv);
  expect_same_values_and_gradients(
      [&](const Tensor& x) { return conv->forward(x, lg); },
      [&](const Tensor& x) {
        return dense_gat(mask, x.index_select(0, lg.src_rows), 2, conv, 2, 2, true);
      },
      torch::randn({g.num_nodes, 3}), block.num_dst(), conv->out_features(), *conv);
}

// Layer-wise inference's path (message, then aggregate per chunk, then
// update) gives the full batch's rows.
TEST(GATConv, MessagesAggregatedPerChunkGiveTheFullBatchRows) {
  torch::manual_seed(2);
  graph::Graph g = five_node_graph();
  GATConv conv(/*in_features=*/3, /*out_per_head=*/2, GATOptions{.heads = 2});
  randomize_bias(conv);
  conv->eval();
  Tensor x = torch::randn({g.num_nodes, 3});
  Tensor full = conv->forward(x, full_layer_graph(g, 0, g.num_nodes, Normalization::kSelfLoops));
  Tensor messages = conv->message(x);
  EXPECT_EQ(messages.size(1), 2 * 2 + 2 * 2);  // heads x out, then both scores
  Tensor chunk =
      conv->update(conv->aggregate(messages, full_layer_graph(g, 2, 5, Normalization::kSelfLoops)),
                   conv->root(x));
  EXPECT_TRUE(torch::allclose(chunk, full.narrow(0, 2, 3), 1e-6, 1e-6)) << chunk << "\n" << full;
}

// Gradients of a double-precision layer against central differences.
TEST(GATConv, GradientsMatchFiniteDifferences) {
  torch::manual_seed(3);
  graph::Graph g = five_node_graph();
  GATConv conv(/*in_features=*/3, /*out_per_head=*/2, GATOptions{.heads = 2});
  conv->to(torch::kFloat64);
  randomize_bias(conv);
  LayerGraph lg = full_layer_graph(g, 0, g.num_nodes, Normalization::kSelfLoops);
  Tensor x = torch::randn({g.num_nodes, 3}, torch::kFloat64).requires_grad_();
  Tensor probe = torch::randn({g.num_nodes, 4}, torch::kFloat64);
  auto loss = [&] { return (conv->forward(x, lg) * probe).sum(); };
  loss().backward();
  std::vector<Tensor> wrt{x};
  for (const auto& p : conv->parameters()) wrt.push_back(p);
  for (Tensor& t : wrt) {
    const Tensor grad = t.grad().clone();
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double eps = 1e-6;
      double* v = t.data_ptr<double>() + i;
      const double saved = *v;
      torch::NoGradGuard no_grad;
      *v = saved + eps;
      const double up = loss().item<double>();
      *v = saved - eps;
      const double down = loss().item<double>();
      *v = saved;
      EXPECT_NEAR(grad.flatten()[i].item<double>(), (up - down) / (2 * eps), 1e-6)
          << "element " << i << " of a tensor of shape " << t.sizes();
    }
  }
}

TEST(GATConv, AttentionDropoutActsOnlyInTraining) {
  torch::manual_seed(4);
  graph::Graph g = five_node_graph();
  GATConv conv(/*in_features=*/3, /*out_per_head=*/2,
               GATOptions{.heads = 2, .attention_dropout = 0.5});
  LayerGraph lg = full_layer_graph(g, 0, g.num_nodes, Normalization::kSelfLoops);
  Tensor x = torch::randn({g.num_nodes, 3});
  conv->eval();
  Tensor a = conv->forward(x, lg), b = conv->forward(x, lg);
  EXPECT_TRUE(torch::equal(a, b));
  conv->train();
  Tensor dropped = conv->forward(x, lg);
  EXPECT_FALSE(torch::allclose(dropped, a));
}

TEST(GATConv, InitialisesAsPyGAndPrintsLikeIt) {
  torch::manual_seed(5);
  GATConv conv(/*in_features=*/100, /*out_per_head=*/8, GATOptions{.heads = 4});
  auto p = conv->named_parameters();
  EXPECT_EQ(p["lin_src.weight"].sizes(), (std::vector<int64_t>{32, 100}));
  EXPECT_EQ(p["att_src"].sizes(), (std::vector<int64_t>{1, 4, 8}));
  EXPECT_EQ(p["bias"].sizes(), (std::vector<int64_t>{32}));
  // PyG's glorot over the last two dimensions: sqrt(6 / (4 + 8)) for att_src.
  EXPECT_LE(p["att_src"].abs().max().item<double>(), std::sqrt(6.0 / 12));
  EXPECT_GT(p["att_src"].abs().max().item<double>(), 0.8 * std::sqrt(6.0 / 12));
  EXPECT_LE(p["lin_src.weight"].abs().max().item<double>(), std::sqrt(6.0 / 132));
  EXPECT_TRUE(torch::equal(p["bias"], torch::zeros({32})));
  std::ostringstream out;
  conv->pretty_print(out);
  EXPECT_EQ(out.str(), "GATConv(100, 8, heads=4)");
}

}  // namespace
}  // namespace edgegnn::nn
