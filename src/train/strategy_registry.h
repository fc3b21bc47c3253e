// The strategy registry: one entry per strategy, the only place that knows
// them all. Whatever asks about a strategy — the CLI's checks and help, the
// planner, the launcher — asks its entry: its name, the device counts and
// models it runs, the memory levers that change its peak, how it is made, and
// its memory estimate (which sits beside the strategy's code). Adding a
// strategy is adding an entry (docs/architecture.md, "How to add a strategy").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nn/model_options.h"
#include "train/memory_plan.h"
#include "train/train_options.h"

namespace edgegnn::train {

class Strategy;
struct StrategyInputs;  // strategy.h
struct PlanContext;     // plan_context.h

// The memory levers (train_options.h) that change a strategy's peak.
struct LeverUse {
  bool eval_chunk = true, eval_order = true, sampler_queue = true;
  bool feature_cache = false;  // sized up, not down: remote rows it need not fetch
};

struct StrategyEntry {
  const char* name;
  const char* summary;  // one line, for --help and the docs
  int min_devices = 1;
  int max_devices = 0;  // 0: any
  std::vector<nn::ModelKind> models;
  bool full_batch = false;       // trains --full-batch too
  bool reads_partition = false;  // --root is a partition written by `edgegnn partition`
  bool places_roles = false;     // takes --placement
  LeverUse levers;
  bool eval_project_first = true;  // the default --eval-order
  int sampler_queue_depth = 2;     // the default --sampler-queue
  graph::FeatureDtype feature_dtype = graph::FeatureDtype::kFloat32;  // the default --feature-dtype
  // A collective where the strategy has a communicator.
  std::unique_ptr<Strategy> (*make)(const StrategyInputs& inputs);
  // Each rank's plan, or none with `note` saying why it cannot run.
  std::vector<RankPlan> (*estimate)(const PlanContext& context, std::string& note);

  bool supports(nn::ModelKind kind) const;
};

// Every strategy, in the order plans list them.
const std::vector<StrategyEntry>& strategy_entries();
// The entry named `name`; throws naming --strategy and the choices.
const StrategyEntry& strategy_entry(const std::string& name);
// "single | data | pipeline | partition".
std::string strategy_names();

// Checks a run's device count, model, batch mode and given levers against the
// entry; throws naming the flag.
void check_supported(const StrategyEntry& entry, int devices, const TrainOptions& options,
                     const FixedLevers& given);

// The levers as `train` flags, those that apply to the strategy.
std::string lever_flags(const StrategyEntry& entry, const MemoryLevers& levers);

}  // namespace edgegnn::train
