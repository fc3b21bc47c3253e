#include "train/graph_tensors.h"

namespace edgegnn::train {

nn::FeatureMatrix borrow_features(const graph::Graph& g) {
  if (!g.has_features) return {};
  // from_blob needs mutable pointers; nothing writes through these tensors.
  const graph::PackedFeatures& packed = g.packed_features;
  const std::vector<int64_t> shape{g.num_nodes, g.num_features};
  switch (packed.dtype) {
    case graph::FeatureDtype::kFloat16:
      return nn::FeatureMatrix::float16(
          torch::from_blob(const_cast<uint8_t*>(packed.bytes.data()), shape, torch::kHalf));
    case graph::FeatureDtype::kInt8:
      return nn::FeatureMatrix::int8(
          torch::from_blob(const_cast<uint8_t*>(packed.bytes.data()), shape, torch::kUInt8),
          torch::from_blob(const_cast<float*>(packed.scale.data()), {g.num_features},
                           torch::kFloat32),
          torch::from_blob(const_cast<float*>(packed.offset.data()), {g.num_features},
                           torch::kFloat32));
    default:
      return torch::from_blob(const_cast<float*>(g.features.data()), shape, torch::kFloat32);
  }
}

GraphTensors::GraphTensors(const graph::Graph& g) : features(borrow_features(g)) {
  labels = torch::from_blob(const_cast<int32_t*>(g.labels.data()), {g.num_nodes}, torch::kInt32);
}

torch::Tensor GraphTensors::labels_of(const torch::Tensor& nodes) const {
  return labels.index_select(0, nodes).to(torch::kInt64);
}

}  // namespace edgegnn::train
