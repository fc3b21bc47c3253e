#include "train/memory_plan.h"

#include <gtest/gtest.h>

#include "graph/dataset.h"
#include "sample/batch_loader.h"

namespace edgegnn::train {
namespace {

struct Tiny {
  graph::Graph g;
  TrainOptions o;
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
  EXPECT_EQ(m.structure, (t.g.num_nodes + 1) * 8 + t.g.num_edges() * 4);
  EXPECT_EQ(m.features, t.g.num_nodes * t.g.num_features * 4);
  EXPECT_EQ(m.labels, t.g.num_nodes * 7);
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
  // Between a part's peak and every other strategy's: only parts fit.
  int64_t others = INT64_MAX;
  for (const StrategyPlan& s : roomy.strategies)
    if (s.runnable() && s.strategy != "partition") others = std::min(others, s.largest_peak());
  const int64_t part = strategy(roomy, "partition").largest_peak();
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
