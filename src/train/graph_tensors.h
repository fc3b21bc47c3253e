// GraphTensors: a Graph's features and labels seen as tensors, without a copy
// (the tensors borrow the Graph's buffers, which must outlive them and are
// never written through them).
#pragma once

#include <torch/torch.h>

#include "graph/graph.h"

namespace edgegnn::train {

struct GraphTensors {
  torch::Tensor features;  // float32 (num_nodes, num_features), borrowed; undefined
                           // when the graph is held without features
  torch::Tensor labels;    // int32 (num_nodes), borrowed; -1 = unknown

  explicit GraphTensors(const graph::Graph& g);
  // Labels of `nodes` as int64, for nll_loss.
  torch::Tensor labels_of(const torch::Tensor& nodes) const;
};

}  // namespace edgegnn::train
