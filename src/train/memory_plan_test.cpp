#include "train/memory_plan.h"

#include <cmath>

#include <gtest/gtest.h>

#include "graph/dataset.h"
#include "sample/batch_loader.h"

namespace edgegnn::train {
namespace {

struct Tiny {
  graph::Graph g;
  TrainOptions o;
  FixedLevers fixed;  // what o's settings the user gave
  explicit Tiny(const std::string& dataset = "synthetic-tiny", int64_t batch_size = 64)
      : g(graph::load_dataset(dataset, "")) {
    o.model.in_features = g.num_features;
    o.model.num_classes = g.num_classes;
    o.batch_size = batch_size;
  }
  Plan plan(int devices, std::optional<int64_t> budget = {}) const {
    PlanRequest r;
    r.devices = devices;
    r.budget_bytes = budget;
    r.fixed = fixed;
    return make_plan(PlanGraph::of(g), o, r);
  }
};

const StrategyPlan& strategy(const Plan& plan, const std::string& name) {
  for (const StrategyPlan& s : plan.strategies)
    if (s.strategy == name) return s;
  throw std::runtime_error("no plan for " + name);
}

TEST(MemoryPlan, CountsTheGraphsArraysExactly) {
  Tiny t;
  const Plan plan = t.plan(1);
  const MemoryParts& m = strategy(plan, "single").ranks.at(0).memory;
  EXPECT_EQ(m.structure, static_cast<int64_t>(t.g.rowptr.memory_bytes() + t.g.col.memory_bytes()));
  EXPECT_EQ(m.features, t.g.num_nodes * t.g.num_features * 4);
  EXPECT_EQ(m.labels,
            static_cast<int64_t>(t.g.labels.memory_bytes() + t.g.train_mask.memory_bytes() +
                                 t.g.val_mask.memory_bytes() + t.g.test_mask.memory_bytes()));
  // Weights, gradients and two Adam moments of SAGE's lin_l (with bias) and lin_r.
  const int64_t params = 2 * t.g.num_features * 256 + 256 + 2 * 256 * t.g.num_classes +
                         t.g.num_classes;
  EXPECT_EQ(m.model, 4 * params * 4);
  EXPECT_EQ(m.total(), m.baseline + m.structure + m.features + m.labels + m.batches +
                           m.activations + m.model + m.comm);
}

TEST(MemoryPlan, HalfPrecisionFeaturesHalveTheFeatureBytes) {
  Tiny t;
  const int64_t full = strategy(t.plan(1), "single").ranks[0].memory.features;
  t.o.feature_dtype = graph::FeatureDtype::kFloat16;
  t.fixed.feature_dtype = true;  // else each strategy plans with its default
  EXPECT_EQ(strategy(t.plan(1), "single").ranks[0].memory.features * 2, full);
}

TEST(MemoryPlan, SampledShapeMatchesTheSamplersBatches) {
  Tiny t;
  const BatchShape s = sample_batch_shape(t.g, t.o, t.o.batch_size, 1);
  ASSERT_EQ(s.dst.size(), 2u);
  EXPECT_TRUE(s.sampled);
  EXPECT_EQ(s.dst[1], 64);              // the seeds
  EXPECT_EQ(s.dst[0], s.src[1]);        // a layer's dst are the next layer's src
  EXPECT_LE(s.src[0], t.g.num_nodes);
  EXPECT_LE(s.edges[1], 64 * 10);       // at most fanout 10 per seed
  EXPECT_GT(s.edges[1], 0);
}

TEST(MemoryPlan, EstimatedShapeStaysWithinTheGraph) {
  const BatchShape s = estimate_batch_shape(1000, 10000, {25, 10}, 100);
  EXPECT_FALSE(s.sampled);
  EXPECT_EQ(s.dst[1], 100);
  EXPECT_EQ(s.edges[1], 100 * 10);       // mean degree 10 caps fanout 25 too
  EXPECT_GT(s.src[1], 100);
  EXPECT_LE(s.src[0], 1000);
  EXPECT_EQ(s.dst[0], s.src[1]);
}

TEST(MemoryPlan, DataParallelSendsTheRingAllreducesBytes) {
  Tiny t;
  const Plan plan = t.plan(4);
  const StrategyPlan& data = strategy(plan, "data");
  ASSERT_EQ(data.ranks.size(), 4u);
  const int64_t train = static_cast<int64_t>(sample::mask_nodes(t.g.train_mask.span()).size());
  const int64_t steps = (train + 63) / 64;
  const int64_t model_bytes = strategy(plan, "single").ranks[0].memory.model / 4;
  EXPECT_EQ(data.ranks[3].bytes_sent_per_epoch, steps * 2 * 3 * model_bytes / 4);
  EXPECT_EQ(strategy(plan, "single").largest_bytes_sent(), 0);
}

TEST(MemoryPlan, PipelineSplitsTheGraphByRole) {
  Tiny t;
  const Plan plan = t.plan(3);
  const StrategyPlan& p = strategy(plan, "pipeline");
  ASSERT_EQ(p.ranks.size(), 3u);
  EXPECT_EQ(p.ranks[0].roles, "sampler");
  EXPECT_GT(p.ranks[0].memory.structure, 0);
  EXPECT_EQ(p.ranks[0].memory.features, 0);
  EXPECT_EQ(p.ranks[1].roles, "features+layer1");
  EXPECT_EQ(p.ranks[1].memory.structure, 0);
  EXPECT_EQ(p.ranks[1].memory.features, t.g.num_nodes * t.g.num_features * 4);
  EXPECT_EQ(p.ranks[2].memory.features, 0);
}

TEST(MemoryPlan, RecommendsTheFittingStrategyThatSendsLeast) {
  // Large enough that data, not the process, dominates.
  Tiny t("synthetic-reddit-mini", 1024);
  const Plan roomy = t.plan(4, int64_t{8} << 30);
  EXPECT_EQ(roomy.recommended, "single");  // fits, sends nothing
  // Between a part's peak and every other strategy's, with its levers as
  // small as they go (a budget nothing fits): only parts fit.
  const Plan smallest = t.plan(4, int64_t{1} << 20);
  int64_t others = INT64_MAX;
  for (const StrategyPlan& s : smallest.strategies)
    if (s.runnable() && s.strategy != "partition") others = std::min(others, s.largest_peak());
  // (Roomy, the partition would cache every remote row.)
  const int64_t part = strategy(smallest, "partition").largest_peak();
  ASSERT_LT(part, others);
  const Plan tight = t.plan(4, (part + others) / 2);
  EXPECT_FALSE(tight.fits(strategy(tight, "single")));
  EXPECT_FALSE(tight.fits(strategy(tight, "data")));
  EXPECT_TRUE(tight.fits(strategy(tight, "partition")));
  EXPECT_EQ(tight.recommended, "partition");
  const Plan none = t.plan(2, int64_t{1} << 20);
  EXPECT_EQ(none.recommended, "");
  EXPECT_NE(format_plan(none).find("none fits"), std::string::npos);
}

// Reddit's counts, without its structure: shapes are estimated.
struct RedditCounts {
  PlanGraph g{232965, 114615892, 602, 41, 153431, nullptr};
  TrainOptions o;
  RedditCounts() {
    o.model.in_features = 602;
    o.model.num_classes = 41;
  }
  Plan plan(int devices, std::optional<int64_t> budget = {}, FixedLevers fixed = {}) const {
    PlanRequest r;
    r.devices = devices;
    r.budget_bytes = budget;
    r.fixed = fixed;
    return make_plan(g, o, r);
  }
  // The levers as `o` holds them, as if given (else a strategy's own default
  // evaluation order and queue would stand in for `o`'s).
  MemoryParts rank0(const std::string& name, int devices) const {
    return strategy(plan(devices, {}, {false, true, true}), name).ranks.at(0).memory;
  }
};

// A Reddit replica's peak is evaluation's, most of it the first layer's table
// of every node's messages (256 floats each).
TEST(MemoryPlan, LeversShrinkWhatTheyShould) {
  RedditCounts r;
  const MemoryParts table = r.rank0("data", 4);
  ASSERT_TRUE(table.eval_sets_peak);
  r.o.levers.eval_project_first = false;
  const MemoryParts chunked = r.rank0("data", 4);
  ASSERT_TRUE(chunked.eval_sets_peak);
  // Gone, the table; come, a chunk's aggregated features: 602 wide, not 256,
  // twice (a chunk's temporaries with the allocator's slack).
  const int64_t chunk = r.o.levers.eval_chunk_nodes;
  EXPECT_EQ(table.total() - chunked.total(),
            r.g.num_nodes * 256 * 4 - 2 * chunk * (602 - 256) * 4);
  r.o.levers.eval_chunk_nodes = 1024;
  EXPECT_LT(r.rank0("data", 4).total(), chunked.total());
  // The queue holds training's batches, and a single device's peak is training's.
  const MemoryParts queue2 = r.rank0("single", 1);
  ASSERT_FALSE(queue2.eval_sets_peak);
  r.o.levers.sampler_queue_depth = 6;
  EXPECT_EQ(r.rank0("single", 1).batches, 2 * queue2.batches);  // 8 batches in flight, not 4
}

// The smallest budget that `peak` fits with the sizing's headroom.
int64_t with_headroom(int64_t peak) {
  return static_cast<int64_t>(std::ceil(peak / (1 - kSizingHeadroom)));
}

// Without a budget the levers are the options'; with one, the plan keeps them
// where they leave the headroom, else takes the fastest that leave it, else
// those with the smallest peak, and never changes one the user gave.
TEST(MemoryPlan, SizesTheLeversToTheBudget) {
  RedditCounts r;
  const StrategyPlan free = strategy(r.plan(4), "data");
  EXPECT_EQ(free.levers, MemoryLevers{});
  EXPECT_FALSE(free.levers_sized);
  const Plan roomy = r.plan(4, with_headroom(free.largest_peak()));
  EXPECT_EQ(strategy(roomy, "data").levers, MemoryLevers{});
  EXPECT_TRUE(roomy.fits_with_headroom(strategy(roomy, "data")));

  // A smaller chunk frees a few MiB, and is tried before the table goes.
  const Plan close = r.plan(4, with_headroom(free.largest_peak() - (16 << 20)));
  const StrategyPlan& smaller = strategy(close, "data");
  EXPECT_TRUE(close.fits_with_headroom(smaller));
  EXPECT_TRUE(smaller.levers_sized);
  EXPECT_TRUE(smaller.levers.eval_project_first);
  EXPECT_LT(smaller.levers.eval_chunk_nodes, 8192);

  const Plan tight = r.plan(4, with_headroom(free.largest_peak() - (150 << 20)));
  const StrategyPlan& sized = strategy(tight, "data");
  EXPECT_TRUE(tight.fits_with_headroom(sized));
  EXPECT_FALSE(sized.levers.eval_project_first);
  EXPECT_EQ(sized.levers.eval_chunk_nodes, 8192);  // the fastest chunk that leaves it
  EXPECT_NE(format_plan(tight).find("--eval-order aggregate-first"), std::string::npos)
      << format_plan(tight);
  EXPECT_NE(format_plan(tight).find("(sized to fit)"), std::string::npos);

  // A budget of the smallest peak any setting has: none leaves the headroom,
  // and the plan takes that setting, which fits.
  const StrategyPlan least = strategy(r.plan(4, int64_t{1} << 20), "data");
  EXPECT_FALSE(least.levers.eval_project_first);
  EXPECT_LT(least.largest_peak(), sized.largest_peak());
  const Plan bare = r.plan(4, least.largest_peak());
  const StrategyPlan& b = strategy(bare, "data");
  EXPECT_TRUE(bare.fits(b));
  EXPECT_FALSE(bare.fits_with_headroom(b));
  EXPECT_EQ(b.levers, least.levers);
  EXPECT_NE(format_plan(bare).find("budget: fits, with less than 12 % to spare"), std::string::npos)
      << format_plan(bare);
  EXPECT_NE(format_plan(tight).find("budget: fits;"), std::string::npos) << format_plan(tight);

  const int64_t budget = free.largest_peak() - (150 << 20);
  FixedLevers given;
  given.eval_project_first = true;
  const Plan kept = r.plan(4, budget, given);
  const StrategyPlan& k = kept.strategies.at(1);
  ASSERT_EQ(k.strategy, "data");
  EXPECT_TRUE(k.levers.eval_project_first);
  EXPECT_FALSE(kept.fits(k));
  // What it shows is the smallest it tried: the smallest chunk.
  EXPECT_EQ(k.levers.eval_chunk_nodes, 512);
  EXPECT_NE(describe_misfit(kept, k).find("even with --feature-dtype float32 --eval-chunk 512 --eval-order "
                                          "project-first"),
            std::string::npos)
      << describe_misfit(kept, k);
}

TEST(MemoryPlan, MisfitNamesTheBudgetTheRankAndItsParts) {
  Tiny t;
  const Plan plan = t.plan(1, int64_t{1} << 20);
  const std::string message = describe_misfit(plan, strategy(plan, "single"));
  EXPECT_NE(message.find("--memory-budget 1.0 MiB"), std::string::npos) << message;
  EXPECT_NE(message.find("rank 0 (all)"), std::string::npos) << message;
  EXPECT_NE(message.find("--force"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace edgegnn::train
