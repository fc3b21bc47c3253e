// The time model: seconds per training epoch of a planned strategy, from the
// work its ranks do per step (each strategy's estimate states it beside the
// rank's memory, as StepWork) and the rates of the devices they run on
// (runtime/board_profile.h). `edgegnn plan` prints it; docs/board-profiles.md
// compares it with measured epochs.
//
// A rank's step takes
//     compute + sampling + bytes sent / link
// where compute is its GEMMs at the GEMM rates, and its aggregation and
// elementwise passes at the aggregation rate. Sampling runs on the loader's
// thread but on the same cores, so it adds; so do transfers, as measured here
// (bench/run-all --emulate): what the partition's loader fetches ahead of a
// step hides little. Replicas and parts step together, so an epoch is steps x
// the slowest rank's step. A pipeline's stages overlap over its M
// micro-batches: a step is the busiest stage plus the others over M (the
// pipeline filling and draining).
//
// Devices on one machine (the local launcher; emulated boards) share it: each
// trains with cores / devices threads, as `train` gives them, at no more than
// the whole machine's rate over the devices busy at once, and its messages
// cost CPU at the machine's loopback message rate. A link sends at the
// board's rate, or the profile's when it was measured; loopback is free.
//
// Not modelled: evaluation, the first epoch's warm-up, and a busy machine.
// Torch-free: it divides work by rates.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/board_profile.h"

namespace edgegnn::train {

struct StrategyPlan;  // memory_plan.h

// Where the planned devices run.
struct Timing {
  std::vector<runtime::BoardProfile> profiles;  // one per device
  std::vector<int64_t> link_bits_per_second;    // one per device; 0 = loopback, free
  bool one_machine = false;                     // the devices share the first profile's cores
  int threads = 0;                              // --threads; 0 = as `train` picks them
};

// Each rank's seconds_per_step and the strategy's seconds_per_epoch.
void time_strategy(StrategyPlan& strategy, const Timing& timing);

}  // namespace edgegnn::train
