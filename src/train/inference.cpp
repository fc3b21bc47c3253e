#include "train/inference.h"

#include "core/error.h"
#include "nn/layer_graph.h"

namespace edgegnn::train {

torch::Tensor layerwise_inference(nn::GnnModel& model, const graph::Graph& g,
                                  const GraphTensors& tensors, int64_t chunk_nodes) {
  check(chunk_nodes > 0, "evaluation chunk size must be positive");
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  torch::Tensor x = tensors.features;
  for (int l = 0; l < model->num_layers(); ++l) {
    nn::GraphConv& conv = model->conv(l);
    // When the layer narrows its input, transforming every node once and
    // aggregating the narrow rows reads far less memory than aggregating the
    // wide ones (on Reddit's first layer, 256 floats per edge instead of 602).
    torch::Tensor messages;
    if (conv.out_features() < conv.in_features()) messages = conv.message(x);
    torch::Tensor out = torch::empty({g.num_nodes, conv.out_features()});
    for (int64_t begin = 0; begin < g.num_nodes; begin += chunk_nodes) {
      const int64_t end = std::min(g.num_nodes, begin + chunk_nodes);
      nn::LayerGraph chunk = nn::full_layer_graph(g, begin, end, model->normalization());
      torch::Tensor h = messages.defined()
                            ? conv.update(nn::csr_aggregate(messages, chunk.adjacency,
                                                            conv.aggregation()),
                                          chunk.dst_input(x))
                            : conv.forward(x, chunk);
      out.narrow(0, begin, end - begin).copy_(model->activate(l, h));
    }
    x = out;
  }
  model->train(was_training);
  return x;
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
