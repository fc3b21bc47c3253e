// TrainOptions: every setting of a training run, as given by `edgegnn train`.
// Defaults are PyG's reddit.py (GraphSAGE); model_defaults() swaps in the GCN
// paper's settings for --model gcn where the user gave no flag.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "graph/feature_dtype.h"
#include "nn/model_options.h"

namespace edgegnn::train {

// Settings that trade time for memory and leave what is learned unchanged.
// `train --memory-budget` sizes those the user left unset (memory_plan.h).
struct MemoryLevers {
  int64_t eval_chunk_nodes = 8192;  // nodes per chunk in layer-wise evaluation
  // Evaluation's first layer, when it narrows: project every node's features
  // into a table of messages, then aggregate those (Reddit: 256 floats per
  // edge, not 602), or aggregate the features a chunk at a time and project
  // the chunk: slower, with no table of every node's messages.
  bool eval_project_first = true;
  int sampler_queue_depth = 2;  // mini-batches made ahead of training; 0: each in its step
  // Partition: remote feature rows kept while training, most often drawn
  // first; with a budget the planner sizes it up from 0 to what training's
  // peak leaves (evaluation runs without it).
  int64_t feature_cache_bytes = 0;

  bool operator==(const MemoryLevers&) const = default;
};

// --eval-order: "project-first" or "aggregate-first"; throws naming the flag.
bool parse_eval_order(const std::string& order);
const char* eval_order_name(bool project_first);

struct TrainOptions {
  std::string dataset;
  std::string root;
  nn::ModelOptions model;              // kind, hidden, layers, dropout, input dropout
  std::vector<int> fanouts = {25, 10};  // per hop from the seeds; -1 = all neighbours
  int64_t batch_size = 1024;
  bool full_batch = false;  // one step per epoch on the whole graph
  bool normalize_features = false;  // rows scaled to sum 1 (the GCN paper's preprocessing)
  int epochs = 10;
  double lr = 0.01;
  double weight_decay = 0;
  bool decay_first_layer_only = false;  // the GCN paper decays layer 1 only
  uint64_t seed = 0;
  int threads = 0;               // 0 = the cores available
  int eval_every = 1;            // epochs between evaluations; 0 = only after the last
  bool evaluates_after(int64_t epoch) const {
    return epoch == epochs || (eval_every > 0 && epoch % eval_every == 0);
  }
  MemoryLevers levers;
  std::string checkpoint_dir;    // save after every epoch when set
  bool write_checkpoints = true;  // false on ranks other than 0 (same weights)
  int64_t gradient_bucket_bytes = 25 << 20;  // data parallel: DDP's bucket_cap_mb
  int micro_batches = 4;  // pipeline: micro-batches per mini-batch
  // How features are held in memory and sent: float32, or packed float16 or
  // int8 (train/compress_features.h), widened to float32 per batch.
  graph::FeatureDtype feature_dtype = graph::FeatureDtype::kFloat32;
  std::optional<int64_t> memory_budget_bytes;  // per device, reported in metrics
  bool resume = false;           // continue from checkpoint_dir
  std::string metrics_out;       // metrics JSON path, when set
  bool progress = true;          // progress bar / lines on stderr
};

// Checks the options against each other and the dataset's shape; throws Error
// naming the flag.
void validate(const TrainOptions& options);

}  // namespace edgegnn::train
