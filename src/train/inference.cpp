#include "train/inference.h"

#include "core/error.h"
#include "nn/layer_graph.h"

namespace edgegnn::train {

torch::Tensor layerwise_inference(nn::GnnModel& model, const graph::Graph& g,
                                  const GraphTensors& tensors, const MemoryLevers& levers) {
  const int64_t chunk_nodes = levers.eval_chunk_nodes;
  check(chunk_nodes > 0, "evaluation chunk size must be positive");
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  const int num_layers = model->num_layers();
  // A layer's input comes as all nodes' rows `x`, or as all nodes' messages
  // and root terms: aggregating narrow messages reads far less memory than
  // aggregating wide rows (Reddit's first layer: 256 floats per edge, not 602),
  // and a layer that narrows need never hold its wide input for all nodes.
  // The first layer may instead aggregate the features chunk by chunk, never
  // holding a table of every node's messages.
  auto narrows = [](nn::GraphConv& conv) { return 2 * conv.out_features() < conv.in_features(); };
  // The first layer reads the features as held; compressed, they are widened
  // a chunk at a time, never whole.
  nn::FeatureMatrix x = tensors.features;
  torch::Tensor messages, roots;
  for (int l = 0; l < num_layers; ++l) {
    nn::GraphConv& conv = model->conv(l);
    if (!messages.defined() && conv.out_features() < conv.in_features() &&
        (l > 0 || levers.eval_project_first))
      messages = x.map_rows([&](const torch::Tensor& rows) { return conv.message(rows); });
    nn::GraphConv* next = l + 1 < num_layers && narrows(model->conv(l + 1)) ? &model->conv(l + 1) : nullptr;
    torch::Tensor out, next_messages, next_roots;
    for (int64_t begin = 0; begin < g.num_nodes; begin += chunk_nodes) {
      const int64_t end = std::min(g.num_nodes, begin + chunk_nodes), n = end - begin;
      nn::LayerGraph chunk = nn::full_layer_graph(g, begin, end, model->normalization());
      torch::Tensor h;
      if (messages.defined()) {
        // The chunk's own rows: a compressed layer input widens a few MiB at a time.
        torch::Tensor root_term =
            roots.defined() ? roots.narrow(0, begin, n)
            : x.defined()   ? x.map_rows([&](const torch::Tensor& rows) { return conv.root(rows); },
                                         begin, n)
                            : torch::Tensor();
        h = conv.update(nn::csr_aggregate(messages, chunk.adjacency, conv.aggregation()), root_term);
      } else {
        h = conv.forward(x, chunk);
      }
      h = model->activate(l, h);
      auto store = [&](torch::Tensor& all, const torch::Tensor& rows) {
        if (!rows.defined()) return;
        if (!all.defined()) all = torch::empty({g.num_nodes, rows.size(1)}, rows.options());
        all.narrow(0, begin, n).copy_(rows);
      };
      if (next) {
        store(next_messages, next->message(h));
        store(next_roots, next->root(h));
      } else {
        store(out, h);
      }
    }
    x = out;
    messages = next_messages;
    roots = next_roots;
  }
  model->train(was_training);
  return x.widen();
}

Accuracy split_accuracy(const torch::Tensor& outputs, const graph::Graph& g,
                        const GraphTensors& tensors) {
  const torch::Tensor predictions = outputs.argmax(1);
  auto accuracy = [&](const graph::Buffer<uint8_t>& mask) {
    torch::Tensor m = torch::from_blob(const_cast<uint8_t*>(mask.data()), {g.num_nodes},
                                       torch::kUInt8).to(torch::kBool);
    const int64_t n = m.sum().item<int64_t>();
    if (n == 0) return 0.0;
    torch::Tensor labels = tensors.labels.to(torch::kInt64);
    return predictions.eq(labels).logical_and(m).sum().item<double>() / n;
  };
  return {accuracy(g.train_mask), accuracy(g.val_mask), accuracy(g.test_mask)};
}

}  // namespace edgegnn::train
