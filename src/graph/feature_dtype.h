// FeatureDtype: how a feature matrix is held in memory and sent between devices
// (--feature-dtype). Files always hold float32; float16 and int8 exist only in
// memory and on the wire, converted once after loading (PackedFeatures in
// graph.h, train/compress_features.h) and widened to float32 per batch.
#pragma once

#include <cstdint>
#include <string_view>

namespace edgegnn::graph {

enum class FeatureDtype : uint8_t { kFloat32, kFloat16, kInt8 };

// "float32" | "float16" | "int8"; throws Error naming --feature-dtype otherwise.
FeatureDtype parse_feature_dtype(std::string_view name);
const char* feature_dtype_name(FeatureDtype dtype);
// Bytes per stored value: 4, 2 or 1.
int64_t feature_dtype_bytes(FeatureDtype dtype);

}  // namespace edgegnn::graph
