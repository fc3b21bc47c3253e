// ModelOptions: the shape and regularisation of a GnnModel (torch-free, so
// option parsing need not compile torch headers).
#pragma once

#include <cstdint>
#include <string>

namespace edgegnn::nn {

enum class ModelKind { kSage, kGcn };

// --model: "sage" or "gcn"; throws naming the flag.
ModelKind parse_model_kind(const std::string& name);
const char* model_kind_name(ModelKind kind);

struct ModelOptions {
  ModelKind kind = ModelKind::kSage;
  int64_t in_features = 0;
  int64_t hidden = 256;
  int64_t num_classes = 0;
  int num_layers = 2;
  double dropout = 0.5;        // after every layer but the last
  double input_dropout = 0.0;  // on the input features (the GCN paper uses 0.5)
};

}  // namespace edgegnn::nn
