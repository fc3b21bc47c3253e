#include "train/train_options.h"

#include "core/error.h"

namespace edgegnn::train {

bool parse_eval_order(const std::string& order) {
  check(order == "project-first" || order == "aggregate-first",
        "--eval-order: '{}' is not an order (project-first, aggregate-first)", order);
  return order == "project-first";
}

const char* eval_order_name(bool project_first) {
  return project_first ? "project-first" : "aggregate-first";
}

void validate(const TrainOptions& o) {
  nn::validate(o.model);
  check(o.full_batch || static_cast<int>(o.fanouts.size()) == o.model.num_layers,
        "--fanouts: {} fanouts for {} layers (give one per layer)", o.fanouts.size(),
        o.model.num_layers);
  for (int f : o.fanouts) check(f == -1 || f > 0, "--fanouts: {} is not a positive count or -1", f);
  check(o.batch_size > 0, "--batch-size: {} is not a positive batch size", o.batch_size);
  check(o.epochs >= 1, "--epochs: {} is not a positive epoch count", o.epochs);
  check(o.lr > 0, "--lr: {} is not a positive learning rate", o.lr);
  check(o.weight_decay >= 0, "--weight-decay: {} is negative", o.weight_decay);
  check(o.threads >= 0, "--threads: {} is negative", o.threads);
  check(o.gradient_bucket_bytes > 0, "--bucket-size: {} bytes is not a positive size",
        o.gradient_bucket_bytes);
  check(o.micro_batches >= 1, "--micro-batches: {} is not a positive count", o.micro_batches);
  check(o.levers.eval_chunk_nodes > 0, "--eval-chunk: {} is not a positive node count",
        o.levers.eval_chunk_nodes);
  check(o.levers.sampler_queue_depth >= 0, "--sampler-queue: {} is a negative batch count",
        o.levers.sampler_queue_depth);
  check(o.eval_every >= 0, "--eval-every: {} is negative", o.eval_every);
  check(!o.resume || !o.checkpoint_dir.empty(), "--resume: needs --checkpoint DIR to resume from");
}

}  // namespace edgegnn::train
