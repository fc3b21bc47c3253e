// ModelOptions: the shape and regularisation of a GnnModel (torch-free, so
// option parsing need not compile torch headers).
#pragma once

#include <cstdint>
#include <string>

namespace edgegnn::nn {

enum class ModelKind { kSage, kGcn, kGat };

// --model: "sage", "gcn" or "gat"; throws naming the flag.
ModelKind parse_model_kind(const std::string& name);
const char* model_kind_name(ModelKind kind);

struct ModelOptions {
  ModelKind kind = ModelKind::kSage;
  int64_t in_features = 0;
  int64_t hidden = 256;  // GAT: per head
  int64_t num_classes = 0;
  int num_layers = 2;
  double dropout = 0.5;        // after every layer but the last
  double input_dropout = 0.0;  // on the input features (the GCN paper uses 0.5)
  int64_t heads = 1;           // GAT's hidden layers (its last averages one head)
  double attention_dropout = 0.0;  // GAT: on attention coefficients

  // Width of a hidden layer's output (GAT: its heads concatenated).
  int64_t hidden_width() const { return hidden * heads; }
};

// Checks the options against each other; throws naming the flag.
void validate(const ModelOptions& options);

}  // namespace edgegnn::nn
