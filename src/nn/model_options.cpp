#include "nn/model_options.h"

#include "core/error.h"

namespace edgegnn::nn {

ModelKind parse_model_kind(const std::string& name) {
  if (name == "sage") return ModelKind::kSage;
  if (name == "gcn") return ModelKind::kGcn;
  fail("--model: unknown model '{}' (sage, gcn)", name);
}

const char* model_kind_name(ModelKind kind) { return kind == ModelKind::kSage ? "sage" : "gcn"; }

}  // namespace edgegnn::nn
