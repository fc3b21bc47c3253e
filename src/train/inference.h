// Evaluation as reddit.py does it: layer-wise inference over all nodes with
// all their neighbours (no sampling), one layer at a time for all nodes, in
// node chunks so that only one layer's output for all nodes is held at once.
// `levers` set the chunk and the first layer's order; the outputs agree to
// float rounding whatever they are.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "graph/graph.h"
#include "nn/gnn_model.h"
#include "train/graph_tensors.h"
#include "train/train_options.h"

namespace edgegnn::train {

struct Accuracy {
  double train = 0, val = 0, test = 0;
};

// The last layer's output for every node (num_nodes, num_classes), before
// log-softmax. Runs in eval mode and restores the model's mode.
torch::Tensor layerwise_inference(nn::GnnModel& model, const graph::Graph& g,
                                  const GraphTensors& tensors, const MemoryLevers& levers);

// Accuracy of the argmax of `outputs` on each split (0 for an empty split).
Accuracy split_accuracy(const torch::Tensor& outputs, const graph::Graph& g,
                        const GraphTensors& tensors);

}  // namespace edgegnn::train
