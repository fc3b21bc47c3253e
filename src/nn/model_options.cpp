#include "nn/model_options.h"

#include "core/error.h"

namespace edgegnn::nn {

ModelKind parse_model_kind(const std::string& name) {
  if (name == "sage") return ModelKind::kSage;
  if (name == "gcn") return ModelKind::kGcn;
  if (name == "gat") return ModelKind::kGat;
  fail("--model: unknown model '{}' (sage, gcn, gat)", name);
}

const char* model_kind_name(ModelKind kind) {
  switch (kind) {
    case ModelKind::kSage:
      return "sage";
    case ModelKind::kGcn:
      return "gcn";
    case ModelKind::kGat:
      return "gat";
  }
  return "?";
}

void validate(const ModelOptions& o) {
  check(o.num_layers >= 1, "--layers: {} is not a positive layer count", o.num_layers);
  check(o.hidden >= 1, "--hidden: {} is not a positive width", o.hidden);
  check(o.heads >= 1, "--heads: {} is not a positive head count", o.heads);
  check(o.heads == 1 || o.kind == ModelKind::kGat, "--heads: {} heads, but --model {} has none",
        o.heads, model_kind_name(o.kind));
  check(o.dropout >= 0 && o.dropout < 1, "--dropout: {} is not in [0, 1)", o.dropout);
  check(o.input_dropout >= 0 && o.input_dropout < 1, "--input-dropout: {} is not in [0, 1)",
        o.input_dropout);
  check(o.attention_dropout >= 0 && o.attention_dropout < 1,
        "--attention-dropout: {} is not in [0, 1)", o.attention_dropout);
  check(o.attention_dropout == 0 || o.kind == ModelKind::kGat,
        "--attention-dropout: --model {} has no attention", model_kind_name(o.kind));
}

}  // namespace edgegnn::nn
