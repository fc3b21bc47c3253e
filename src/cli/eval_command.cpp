#include <fmt/format.h>

#include "cli/commands.h"
#include "graph/dataset.h"
#include "runtime/checkpoint.h"
#include "runtime/threads.h"
#include "train/compress_features.h"
#include "train/evaluation.h"
#include "train/graph_tensors.h"
#include "train/trainer.h"

namespace edgegnn::cli {

void run_eval(const EvalArgs& args) {
  const int threads = runtime::configure_threads(args.data.threads);
  const graph::FeatureDtype feature_dtype = graph::parse_feature_dtype(args.feature_dtype);
  check(args.eval_chunk > 0, "--eval-chunk: {} is not a positive node count", args.eval_chunk);
  train::MemoryLevers levers;
  levers.eval_chunk_nodes = args.eval_chunk;
  levers.eval_project_first = train::parse_eval_order(args.eval_order);
  nlohmann::json meta = runtime::read_checkpoint_meta(args.checkpoint);
  nn::ModelOptions model_options;
  try {
    const auto& m = meta.at("model");
    model_options.kind = nn::parse_model_kind(m.at("kind"));
    model_options.in_features = m.at("in_features");
    model_options.hidden = m.at("hidden");
    model_options.num_classes = m.at("num_classes");
    model_options.num_layers = m.at("num_layers");
    model_options.heads = m.value("heads", 1);
  } catch (const nlohmann::json::exception&) {
    fail("--checkpoint: {} has no usable model description", args.checkpoint);
  }
  graph::Graph g =
      load_dataset_and_warn(args.data.dataset, args.data.root,
                            {.seed = args.data.seed, .num_threads = threads, .parts = {}});
  check(g.num_features == model_options.in_features && g.num_classes == model_options.num_classes,
        "--checkpoint: model expects {} features and {} classes, dataset '{}' has {} and {}",
        model_options.in_features, model_options.num_classes, g.name, g.num_features,
        g.num_classes);
  // As the run trained (GCN's and GAT's defaults scale rows to sum 1).
  if (meta.value("normalize_features", false) && g.has_features) graph::row_normalize_features(g);
  train::compress_features(g, feature_dtype);
  nn::GnnModel model(model_options);
  runtime::load_checkpoint(args.checkpoint, *model, /*optimizer=*/nullptr);
  train::WholeGraphRows rows(g, model->normalization());
  train::Accuracy acc = train::accuracy_of(train::count_hits(
      train::evaluate_layerwise(model, train::borrow_features(g), rows, levers), g));
  fmt::print("{} epoch {}: train {:.4f} val {:.4f} test {:.4f}\n", args.checkpoint,
             meta.value("epoch", 0), acc.train, acc.val, acc.test);
}

}  // namespace edgegnn::cli
