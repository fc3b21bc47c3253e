#include "train/graph_tensors.h"

namespace edgegnn::train {

GraphTensors::GraphTensors(const graph::Graph& g) {
  // from_blob needs a mutable pointer; nothing writes through these tensors.
  if (g.has_features)
    features = torch::from_blob(const_cast<float*>(g.features.data()),
                                {g.num_nodes, g.num_features}, torch::kFloat32);
  labels = torch::from_blob(const_cast<int32_t*>(g.labels.data()), {g.num_nodes}, torch::kInt32);
}

torch::Tensor GraphTensors::labels_of(const torch::Tensor& nodes) const {
  return labels.index_select(0, nodes).to(torch::kInt64);
}

}  // namespace edgegnn::train
