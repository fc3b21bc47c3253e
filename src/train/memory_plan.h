// MemoryPlan: before a run, each rank's peak memory under a strategy, split by
// what holds it, whether it fits a per-device budget, and the bytes each device
// sends per epoch; `edgegnn plan` prints it and `train --memory-budget` checks it.
//
// With Timing, each strategy's training epoch is timed (time_model.h) and the
// recommendation is the fastest strategy that fits, not the one sending least.
//
// With a budget, the plan also sizes the memory levers the user left unset
// (TrainOptions::levers): for each strategy, the fastest settings whose
// estimate leaves kSizingHeadroom of the budget to spare, preferring a first
// layer that projects first, then the largest evaluation chunk, then the
// deepest sampler queue; where none leaves it, the settings with the smallest
// peak. A lever costs time; a crossed budget costs the run.
//
// The estimate is an account of the arrays a rank holds (structure, features,
// labels, the model and Adam's two moments), and of the larger of two phases:
// training (the batches in flight, their shape sampled from a few real
// mini-batches of the run's seeds and fanouts or estimated when the graph is
// not at hand; the tensors autograd keeps per layer, times a factor measured on
// this code; communication buffers) and evaluation (layer-wise tables over all
// nodes, a chunk's temporaries). The trainer returns freed heap to the system
// between the two phases, so they do not add.
// Constants measured here are in memory_plan.cpp with the runs they come from;
// bench/run-all and bench/run-levers compare estimates with measured peaks.
//
// Torch-free: it counts bytes, it allocates no tensors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/graph.h"
#include "partition/partition_summary.h"
#include "train/time_model.h"
#include "train/train_options.h"

namespace edgegnn::train {

// The share of a budget that lever sizing keeps free: the estimate's largest
// miss below a measured peak (bench/run-all: single on synthetic-reddit with
// 2 threads, 12 %).
inline constexpr double kSizingHeadroom = 0.12;

// The mean shape of a mini-batch: per layer, input layer first.
struct BatchShape {
  std::vector<double> dst, src, edges;
  bool sampled = false;  // from real batches; else estimated from counts
};

// Samples `num_batches` batches of `batch_size` training nodes of `graph` as
// training would (fanouts and seed of `options`). Needs the graph's structure.
BatchShape sample_batch_shape(const graph::Graph& graph, const TrainOptions& options,
                              int64_t batch_size, int num_batches = 4);

// Without the structure: each hop draws min(fanout, mean degree) neighbours per
// node, uniformly over the nodes (the distinct count of such draws).
BatchShape estimate_batch_shape(int64_t num_nodes, int64_t num_edges,
                                const std::vector<int>& fanouts, int64_t batch_size);

struct MemoryParts {
  int64_t baseline = 0;     // the process: libtorch, threads, the backend
  int64_t structure = 0;    // CSR, global ids, partition book
  int64_t features = 0;     // feature rows held (own part, cache)
  int64_t labels = 0;       // labels and split masks
  // Batches, activations and comm are those of the phase, training or
  // evaluation, whose sum is the larger: the trainer returns freed heap between
  // the two, so they do not add.
  int64_t batches = 0;      // sampled blocks in flight (queue, micro-batches)
  int64_t activations = 0;  // the phase's working set
  int64_t model = 0;        // weights, gradients, Adam moments
  int64_t comm = 0;         // gradient buckets, fetched rows, messages
  bool eval_sets_peak = false;

  int64_t total() const {
    return baseline + structure + features + labels + batches + activations + model + comm;
  }
};

// What a rank does in one training step, for the time model (time_model.h).
struct StepWork {
  double wide_flops = 0;         // GEMMs to hidden-wide outputs, forward and backward
  double narrow_flops = 0;       // GEMMs to class-wide outputs
  double aggregation_bytes = 0;  // rows read by CSR aggregation, and scattered back
  double elementwise_bytes = 0;  // activations' elementwise passes, root rows gathered
  double sampled_edges = 0;      // sampled on the loader's thread
  double sent_bytes = 0;         // sent by the rank, the step waiting for them

  StepWork& operator+=(const StepWork& o);
};

struct RankPlan {
  int rank = 0;
  std::string roles;  // "all", "sampler", "features+layer1", "part 2", ...
  MemoryParts memory;
  int64_t bytes_sent_per_epoch = 0;
  StepWork step;
  double seconds_per_step = 0;  // on its device, by the time model; 0 = not timed
};

struct StrategyPlan {
  std::string strategy;
  int devices = 1;
  graph::FeatureDtype feature_dtype = graph::FeatureDtype::kFloat32;  // given or the default
  MemoryLevers levers;        // as planned: given, default, or sized to the budget
  bool levers_sized = false;  // some differ from those asked for, to fit
  std::vector<RankPlan> ranks;
  std::string note;  // why it cannot run, or what the estimate assumes
  int64_t steps = 0;  // training steps per epoch
  // 0: ranks step together (replicas, parts), a step as long as the slowest;
  // M: pipeline stages over M micro-batches, a stage's work overlapping the others'.
  int pipeline_micro_batches = 0;
  double seconds_per_epoch = 0;  // training, by the time model; 0 = not timed

  bool runnable() const { return !ranks.empty(); }
  int64_t largest_peak() const;
  int64_t largest_bytes_sent() const;
};

// Levers the user gave (the run's TrainOptions hold their values): the plan
// keeps them and sizes the others.
struct FixedLevers {
  bool eval_chunk_nodes = false, eval_project_first = false, sampler_queue_depth = false,
       feature_cache_bytes = false;
  bool feature_dtype = false;  // not a lever, but each strategy has its default
};

struct PlanRequest {
  int devices = 1;
  std::optional<int64_t> budget_bytes;
  FixedLevers fixed;
  std::vector<std::string> strategies;  // empty: all four
  std::string placement;                // pipeline: --placement, "" = the default
  // The partition to be trained on, from its partition.json; without one,
  // parts are estimated as even shares with a random cut's halo.
  std::optional<partition::PartitionSummary> partition;
  // Where the devices run: with it, each strategy's epoch is timed and the
  // recommendation is the fastest that fits.
  std::optional<Timing> timing;
};

// The graph as the planner sees it: its counts, and its structure when held.
struct PlanGraph {
  int64_t num_nodes = 0, num_edges = 0, num_features = 0, num_classes = 0, num_train = 0;
  const graph::Graph* graph = nullptr;  // with structure: sampled shapes, degrees

  static PlanGraph of(const graph::Graph& g);
};

struct Plan {
  std::optional<int64_t> budget_bytes;
  BatchShape shape;         // of a whole batch of --batch-size seeds
  BatchShape device_shape;  // of one device's slice of it, batch size / devices seeds
  std::vector<StrategyPlan> strategies;
  bool timed = false;
  // The fitting strategy with the shortest epoch when timed, else the one
  // sending the fewest bytes (ties: fewer bytes, then less memory); or "".
  std::string recommended;
  std::string recommended_because;  // the reason, for people

  bool fits(const StrategyPlan& s) const { return fits_within(s, 1.0); }
  // Fits with kSizingHeadroom of the budget to spare.
  bool fits_with_headroom(const StrategyPlan& s) const {
    return fits_within(s, 1 - kSizingHeadroom);
  }

 private:
  // Its largest peak within `share` of the budget (or no budget).
  bool fits_within(const StrategyPlan& s, double share) const;
};

// Plans `request` for a run with `options` on `graph`; the structure, when
// held, gives sampled batch shapes and the degrees for halo estimates. With a
// budget, each strategy's levers are sized as the header's comment says.
Plan make_plan(const PlanGraph& graph, const TrainOptions& options, const PlanRequest& request);

std::string format_plan(const Plan& plan);
nlohmann::json plan_json(const Plan& plan);

// The plan's settings as `train` flags: the feature dtype, and the levers
// that apply to the strategy.
std::string lever_flags(const StrategyPlan& strategy);

// The refusal of `train --memory-budget` for a plan that does not fit: one
// line with the largest rank's parts.
std::string describe_misfit(const Plan& plan, const StrategyPlan& strategy);

}  // namespace edgegnn::train
