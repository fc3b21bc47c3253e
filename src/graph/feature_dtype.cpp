#include "graph/feature_dtype.h"

#include "core/error.h"

namespace edgegnn::graph {

FeatureDtype parse_feature_dtype(std::string_view name) {
  if (name == "float32") return FeatureDtype::kFloat32;
  if (name == "float16") return FeatureDtype::kFloat16;
  if (name == "int8") return FeatureDtype::kInt8;
  fail("--feature-dtype: '{}' is not a feature type (float32, float16, int8)", name);
}

const char* feature_dtype_name(FeatureDtype dtype) {
  switch (dtype) {
    case FeatureDtype::kFloat16:
      return "float16";
    case FeatureDtype::kInt8:
      return "int8";
    default:
      return "float32";
  }
}

int64_t feature_dtype_bytes(FeatureDtype dtype) {
  switch (dtype) {
    case FeatureDtype::kFloat16:
      return 2;
    case FeatureDtype::kInt8:
      return 1;
    default:
      return 4;
  }
}

}  // namespace edgegnn::graph
