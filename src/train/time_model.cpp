#include "train/time_model.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "core/error.h"
#include "train/memory_plan.h"

namespace edgegnn::train {
namespace {

// A rank's step on rates `r`, sending at `link` bits/s (0: free). With
// `shared_cores`, its messages cost CPU time on the cores its compute uses.
double step_seconds(const StepWork& w, const runtime::ComputeRates& r, int64_t link,
                    bool shared_cores) {
  // Elementwise passes stream memory as the aggregation does.
  double compute = w.wide_flops / r.gemm_flops + w.narrow_flops / r.output_gemm_flops +
                   (w.aggregation_bytes + w.elementwise_bytes) / r.aggregation_bytes;
  if (shared_cores && r.message_bytes > 0) compute += w.sent_bytes / r.message_bytes;
  const double sampling = w.sampled_edges / r.sampled_edges;
  const double per_byte = link > 0 ? 8.0 / link : 0;
  return compute + sampling + w.sent_bytes * per_byte;
}

}  // namespace

void time_strategy(StrategyPlan& s, const Timing& timing) {
  if (!s.runnable()) return;
  const int devices = s.devices;
  check(static_cast<int>(timing.profiles.size()) >= devices &&
            static_cast<int>(timing.link_bits_per_second.size()) >= devices,
        "the time model has {} profiles for {} devices", timing.profiles.size(), devices);
  const runtime::BoardProfile& machine = timing.profiles.front();
  auto rates_of = [&](const RankPlan& rank) {
    const runtime::BoardProfile& p = timing.one_machine ? machine : timing.profiles[rank.rank];
    int threads = timing.threads > 0 ? timing.threads : p.cores;
    if (timing.one_machine && timing.threads == 0) threads = std::max(1, p.cores / devices);
    return p.at(threads);
  };
  auto time_ranks = [&](auto&& rates) {
    double busiest = 0, all = 0;
    for (RankPlan& rank : s.ranks) {
      rank.seconds_per_step = step_seconds(
          rank.step, rates(rank), timing.link_bits_per_second[rank.rank], timing.one_machine);
      busiest = std::max(busiest, rank.seconds_per_step);
      all += rank.seconds_per_step;
    }
    return std::pair(busiest, all);
  };
  auto [busiest, all] = time_ranks(rates_of);
  if (timing.one_machine && busiest > 0) {
    // Devices busy at once (all replicas; a pipeline's stages by their share
    // of the busiest's time) split the machine's throughput with all its cores.
    const double busy = all / busiest;
    std::tie(busiest, all) = time_ranks([&](const RankPlan& rank) {
      runtime::ComputeRates r = rates_of(rank);
      const runtime::ComputeRates whole = machine.at(machine.cores);
      r.gemm_flops = std::min(r.gemm_flops, whole.gemm_flops / busy);
      r.output_gemm_flops = std::min(r.output_gemm_flops, whole.output_gemm_flops / busy);
      r.aggregation_bytes = std::min(r.aggregation_bytes, whole.aggregation_bytes / busy);
      r.sampled_edges = std::min(r.sampled_edges, whole.sampled_edges / busy);
      r.message_bytes = std::min(r.message_bytes, whole.message_bytes / busy);
      return r;
    });
  }
  // Replicas wait for the slowest; a pipeline's other stages overlap the busiest.
  const int m = s.pipeline_micro_batches;
  const double step = m > 0 ? busiest + (all - busiest) / m : busiest;
  s.seconds_per_epoch = s.steps * step;
}

}  // namespace edgegnn::train
