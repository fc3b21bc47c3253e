// GraphTensors: a Graph's features and labels seen as tensors, without a copy
// (the tensors borrow the Graph's buffers, which must outlive them and are
// never written through them).
#pragma once

#include <torch/torch.h>

#include "graph/graph.h"
#include "nn/feature_matrix.h"

namespace edgegnn::train {

// The graph's feature matrix as it holds it (float32, or packed float16 or
// int8), borrowed; undefined when the graph is held without features.
nn::FeatureMatrix borrow_features(const graph::Graph& g);

struct GraphTensors {
  nn::FeatureMatrix features;  // (num_nodes, num_features), see borrow_features
  torch::Tensor labels;        // int32 (num_nodes), borrowed; -1 = unknown

  explicit GraphTensors(const graph::Graph& g);
  // Labels of `nodes` as int64, for nll_loss.
  torch::Tensor labels_of(const torch::Tensor& nodes) const;
};

}  // namespace edgegnn::train
