#include "train/time_model.h"

#include <gtest/gtest.h>

#include "train/memory_plan.h"
#include "train/plan_context.h"

namespace edgegnn::train {
namespace {

// 10 GFLOP/s wide, 5 narrow, 2 GB/s aggregation, 1 M edges/s; twice that on 2 threads.
runtime::BoardProfile two_cores() {
  runtime::BoardProfile p;
  p.name = "two-core";
  p.cores = 2;
  p.rates = {{1, 10e9, 5e9, 2e9, 1e6}, {2, 20e9, 10e9, 4e9, 2e6}};
  return p;
}

StrategyPlan one_rank(const StepWork& work, int64_t steps) {
  StrategyPlan s;
  s.devices = 1;
  s.steps = steps;
  s.ranks.push_back({});
  s.ranks[0].step = work;
  return s;
}

TEST(TimeModel, AStepIsComputeSamplingAndTheBytesItSends) {
  StepWork w;
  w.wide_flops = 2e9;         // 0.1 s at 20 GFLOP/s
  w.narrow_flops = 1e9;       // 0.1 s at 10
  w.aggregation_bytes = 1e9;  // 0.25 s at 4 GB/s
  w.elementwise_bytes = 1e9;  // 0.25 s at the same rate
  w.sampled_edges = 0.6e6;    // 0.3 s at 2 M/s
  w.sent_bytes = 1e6;         // 0.8 s at 10 Mbit/s
  Timing timing{{two_cores()}, {10'000'000}};
  StrategyPlan s = one_rank(w, 10);
  time_strategy(s, timing);
  EXPECT_DOUBLE_EQ(s.ranks[0].seconds_per_step, 1.0 + 0.8);
  EXPECT_DOUBLE_EQ(s.seconds_per_epoch, 18);
  // Loopback is free...
  timing.link_bits_per_second = {0};
  time_strategy(s, timing);
  EXPECT_DOUBLE_EQ(s.ranks[0].seconds_per_step, 1.0);
  // ... but on a shared machine its messages take CPU: 1 MB at 1 MB/s.
  timing.profiles[0].rates[1].message_bytes = 1e6;
  timing.one_machine = true;
  s.devices = 1;
  time_strategy(s, timing);
  EXPECT_DOUBLE_EQ(s.ranks[0].seconds_per_step, 2.0);
}

TEST(TimeModel, DevicesOnOneMachineShareItsCores) {
  StepWork w;
  w.wide_flops = 10e9;
  StrategyPlan s = one_rank(w, 1);
  s.devices = 2;
  s.ranks.push_back(s.ranks[0]);
  s.ranks[1].rank = 1;
  Timing separate{{two_cores(), two_cores()}, {0, 0}};
  time_strategy(s, separate);
  EXPECT_DOUBLE_EQ(s.seconds_per_epoch, 0.5);  // each board's 2 cores: 20 GFLOP/s
  Timing shared = separate;
  shared.one_machine = true;
  time_strategy(s, shared);
  EXPECT_DOUBLE_EQ(s.seconds_per_epoch, 1.0);  // one core each: 10 GFLOP/s
  // Four devices on two cores: one thread each, half the time.
  s.devices = 4;
  for (int r = 2; r < 4; ++r) {
    s.ranks.push_back(s.ranks[0]);
    s.ranks.back().rank = r;
  }
  shared.profiles.resize(4, two_cores());
  shared.link_bits_per_second.resize(4, 0);
  time_strategy(s, shared);
  EXPECT_DOUBLE_EQ(s.seconds_per_epoch, 2.0);
  // --threads 2 on each: no faster, the machine's rate is split four ways.
  shared.threads = 2;
  time_strategy(s, shared);
  EXPECT_DOUBLE_EQ(s.seconds_per_epoch, 2.0);
  // Where two threads make less than twice one's (memory, clocks), two
  // devices split the two threads' rate: 15 / 2 GFLOP/s each, not 10.
  s.devices = 2;
  s.ranks.resize(2);
  shared.threads = 0;
  for (auto& p : shared.profiles) p.rates[1].gemm_flops = 15e9;
  time_strategy(s, shared);
  EXPECT_DOUBLE_EQ(s.seconds_per_epoch, 10e9 / 7.5e9);
}

TEST(TimeModel, APipelinesOtherStagesOverlapTheBusiestOverItsMicroBatches) {
  StrategyPlan s;
  s.devices = 3;
  s.steps = 2;
  s.pipeline_micro_batches = 4;
  for (int r = 0; r < 3; ++r) {
    RankPlan p;
    p.rank = r;
    p.step.wide_flops = 20e9 * (r + 1);  // 1, 2, 3 s on 2 cores
    s.ranks.push_back(p);
  }
  time_strategy(s, {{two_cores(), two_cores(), two_cores()}, {0, 0, 0}});
  EXPECT_DOUBLE_EQ(s.seconds_per_epoch, 2 * (3 + (1 + 2) / 4.0));
}

TEST(TimeModel, LayerWorkCountsEachGemmForwardAndBackward) {
  BatchShape s{{1000, 100}, {5000, 1000}, {10000, 1000}, true};
  const Dims d{{50, 16}, {16, 4}};
  const StepWork sage = layer_work(s, d, nn::ModelKind::kSage, 0, 2);
  // Layer 0: two 1000x50x16 GEMMs, forward and weight gradient; layer 1: two
  // 100x16x4 GEMMs, also the input gradient.
  EXPECT_DOUBLE_EQ(sage.wide_flops, 2 * 2 * 1000.0 * 50 * 16 * 2);
  EXPECT_DOUBLE_EQ(sage.narrow_flops, 2 * 2 * 100.0 * 16 * 4 * 3);
  // Layer 0 reads 10000 rows of 50 floats; layer 1 reads 1000 of 16 and scatters them back.
  EXPECT_DOUBLE_EQ(sage.aggregation_bytes, 10000.0 * 50 * 4 + 2 * 1000.0 * 16 * 4);
  // Ten passes over layer 0's output and six over layer 1's; layer 0's root
  // rows gathered (read and written).
  EXPECT_DOUBLE_EQ(sage.elementwise_bytes,
                   (10 * 1000.0 * 16 + 6 * 100.0 * 4 + 2 * 1000.0 * 50) * 4);
  // GCN: one linear. Layer 1 aggregates first: 100 rows of 16x4 and 1000
  // 16-wide edges cost less than transforming 1000 rows.
  const StepWork gcn = layer_work(s, d, nn::ModelKind::kGcn, 1, 2);
  EXPECT_DOUBLE_EQ(gcn.narrow_flops, 2 * 100.0 * 16 * 4 * 3);
  EXPECT_DOUBLE_EQ(gcn.aggregation_bytes, 2 * 1000.0 * 16 * 4);
  // With 100 edges per row and 64 -> 2 it transforms its 1000 rows first,
  // and aggregates 2-wide rows, forward and back.
  const BatchShape dense{{1000, 100}, {5000, 1000}, {10000, 100000}, true};
  const StepWork first = layer_work(dense, {{50, 64}, {64, 2}}, nn::ModelKind::kGcn, 1, 2);
  EXPECT_DOUBLE_EQ(first.narrow_flops, 2 * 1000.0 * 64 * 2 * 3);
  EXPECT_DOUBLE_EQ(first.aggregation_bytes, 2 * 100000.0 * 2 * 4);
}

}  // namespace
}  // namespace edgegnn::train
