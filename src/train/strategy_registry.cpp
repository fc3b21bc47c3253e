#include "train/strategy_registry.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "train/data_strategy.h"
#include "train/partition_strategy.h"
#include "train/pipeline_strategy.h"
#include "train/plan_context.h"
#include "train/single_strategy.h"

namespace edgegnn::train {

using nn::ModelKind;

const std::vector<StrategyEntry>& strategy_entries() {
  static const std::vector<StrategyEntry> entries{
      {.name = "single",
       .summary = "everything on one device (reddit.py)",
       .max_devices = 1,
       .models = {ModelKind::kSage, ModelKind::kGcn, ModelKind::kGat},
       .full_batch = true,
       .make = SingleStrategy::make,
       .estimate = SingleStrategy::estimate},
      {.name = "data",
       .summary = "data parallel: a replica per device, gradients summed (DDP, Horovod)",
       .models = {ModelKind::kSage, ModelKind::kGcn, ModelKind::kGat},
       .make = DataStrategy::make,
       .estimate = DataStrategy::estimate},
      {.name = "pipeline",
       .summary = "model parallel: the sampler and each layer on their own device",
       .models = {ModelKind::kSage, ModelKind::kGcn, ModelKind::kGat},
       .places_roles = true,
       // Its features rank holds the feature matrix already: a table of every
       // node's messages beside it would raise its peak by a third on Reddit.
       .eval_project_first = false,
       .make = PipelineStrategy::make,
       .estimate = PipelineStrategy::estimate},
      {.name = "partition",
       .summary = "partition parallel: each device holds one part of the graph",
       .models = {ModelKind::kSage, ModelKind::kGat},
       .reads_partition = true,
       // A narrowing first layer's halo is narrower as messages, so
       // aggregating first saves nothing.
       .levers =
           {.eval_chunk = true, .eval_order = false, .sampler_queue = true, .feature_cache = true},
       // A step made ahead holds its fetched input rows (~130 MB on Reddit,
       // 4 parts): one hides the transfers, a second would cost a board that.
       .sampler_queue_depth = 1,
       // Its feature rows cross the link every step: float16 halves the bytes
       // and the memory they take (their cache holds twice the rows), and
       // learns what float32 does (bench/results/partition-link-*.json).
       .feature_dtype = graph::FeatureDtype::kFloat16,
       .make = PartitionStrategy::make,
       .estimate = PartitionStrategy::estimate},
  };
  return entries;
}

bool StrategyEntry::supports(ModelKind kind) const {
  return std::find(models.begin(), models.end(), kind) != models.end();
}

std::string strategy_names() {
  std::string names;
  for (const StrategyEntry& e : strategy_entries()) names += (names.empty() ? "" : " | ") + std::string(e.name);
  return names;
}

const StrategyEntry& strategy_entry(const std::string& name) {
  for (const StrategyEntry& e : strategy_entries())
    if (name == e.name) return e;
  fail("--strategy: '{}' is not available ({})", name, strategy_names());
}

void check_supported(const StrategyEntry& e, int devices, const TrainOptions& o,
                     const FixedLevers& given) {
  check(devices >= 1, "--devices: {} is not a positive device count", devices);
  check(e.max_devices == 0 || devices <= e.max_devices,
        "--devices: {} devices need a distributed strategy (--strategy data, pipeline or "
        "partition)",
        devices);
  check(devices >= e.min_devices, "--strategy {}: needs {} or more devices", e.name, e.min_devices);
  check(e.supports(o.model.kind), "--strategy {}: does not train --model {}", e.name,
        nn::model_kind_name(o.model.kind));
  check(e.full_batch || !o.full_batch, "--strategy {}: trains mini-batches; drop --full-batch",
        e.name);
  auto lever = [&](bool gave, bool applies, const char* flag) {
    check(!gave || applies, "{}: does not change the memory of --strategy {}; drop it", flag, e.name);
  };
  lever(given.eval_chunk_nodes, e.levers.eval_chunk, "--eval-chunk");
  lever(given.eval_project_first, e.levers.eval_order, "--eval-order");
  lever(given.sampler_queue_depth, e.levers.sampler_queue, "--sampler-queue");
  check(!given.feature_cache_bytes || e.levers.feature_cache,
        "--feature-cache: only for --strategy partition");
}

std::string lever_flags(const StrategyEntry& e, const MemoryLevers& levers) {
  std::vector<std::string> flags;
  if (e.levers.eval_chunk) flags.push_back(fmt::format("--eval-chunk {}", levers.eval_chunk_nodes));
  if (e.levers.eval_order)
    flags.push_back(fmt::format("--eval-order {}", eval_order_name(levers.eval_project_first)));
  if (e.levers.sampler_queue)
    flags.push_back(fmt::format("--sampler-queue {}", levers.sampler_queue_depth));
  if (e.levers.feature_cache)
    flags.push_back(fmt::format("--feature-cache {}MiB", levers.feature_cache_bytes >> 20));
  return fmt::format("{}", fmt::join(flags, " "));
}

}  // namespace edgegnn::train
