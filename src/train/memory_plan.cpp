#include "train/memory_plan.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "core/error.h"
#include "core/random.h"
#include "runtime/size.h"
#include "sample/batch_loader.h"
#include "sample/neighbor_sampler.h"
#include "train/plan_context.h"
#include "train/strategy_registry.h"

namespace edgegnn::train {
namespace {

// The smallest evaluation chunk the planner sizes: below it, per-chunk
// overheads grow and the memory saved is a few MiB.
constexpr int64_t kSmallestEvalChunk = 512;

// Nodes outside a part that are sources of its in-edges, for a random cut
// into `parts`: node v (out-degree k) is in another part with probability
// (p-1)/p and reaches this one with 1 - (1 - 1/p)^k.
int64_t random_halo(const graph::Graph& g, int parts) {
  if (!g.has_structure || parts <= 1) return 0;
  std::vector<int32_t> out_degree(g.num_nodes, 0);
  for (int32_t c : g.col.span()) ++out_degree[c];
  const double stay = 1.0 - 1.0 / parts;
  double halo = 0;
  for (int32_t k : out_degree) halo += stay * (1 - std::pow(stay, k));
  return static_cast<int64_t>(halo);
}

std::string mib(int64_t b) { return fmt::format("{:.0f}", b / double(kMiB)); }

// The levers to try for `entry`, most preferred first: `start`, then, for
// those not fixed and that change the strategy's memory, smaller. Without a
// budget, only `start`.
// The feature cache goes the other way, and last: with the other levers
// chosen, from `max_cache` (every remote row of the largest part) down to
// none, the largest that fits first.
std::vector<MemoryLevers> lever_candidates(const MemoryLevers& start, const PlanRequest& request,
                                           const StrategyEntry& entry, int64_t max_cache) {
  if (!request.budget_bytes) return {start};
  const FixedLevers& fixed = request.fixed;
  std::vector<bool> orders{start.eval_project_first};
  if (!fixed.eval_project_first && entry.levers.eval_order && start.eval_project_first)
    orders.push_back(false);
  std::vector<int64_t> chunks{start.eval_chunk_nodes};
  if (!fixed.eval_chunk_nodes && entry.levers.eval_chunk)
    for (int64_t c = start.eval_chunk_nodes / 2; c >= kSmallestEvalChunk; c /= 2) chunks.push_back(c);
  std::vector<int> queues{start.sampler_queue_depth};
  if (!fixed.sampler_queue_depth && entry.levers.sampler_queue)
    for (int q = start.sampler_queue_depth - 1; q >= 0; --q) queues.push_back(q);
  std::vector<int64_t> caches{start.feature_cache_bytes};
  if (!fixed.feature_cache_bytes && entry.levers.feature_cache) {
    caches.clear();
    for (int eighths = 8; eighths >= 0; --eighths) caches.push_back(max_cache / 8 * eighths);
  }
  std::vector<MemoryLevers> out;
  for (bool order : orders)
    for (int64_t chunk : chunks)
      for (int queue : queues)
        for (int64_t cache : caches) out.push_back({chunk, order, queue, cache});
  return out;
}

// Seconds to three figures below 100: plans a few percent apart read apart.
std::string format_seconds(double seconds) {
  return seconds < 10 ? fmt::format("{:.2f}", seconds) : fmt::format("{:.1f}", seconds);
}

// The fitting strategy with the shortest epoch (when timed), then the fewest
// bytes sent, then the smallest peak; and why, for people.
void recommend(Plan& plan) {
  auto fewer_bytes = [](const StrategyPlan& a, const StrategyPlan& b) {
    return std::pair(a.largest_bytes_sent(), a.largest_peak()) <
           std::pair(b.largest_bytes_sent(), b.largest_peak());
  };
  const StrategyPlan* best = nullptr;
  for (const StrategyPlan& s : plan.strategies) {
    if (!plan.fits(s)) continue;
    const bool better = !best || (plan.timed && s.seconds_per_epoch != best->seconds_per_epoch
                                      ? s.seconds_per_epoch < best->seconds_per_epoch
                                      : fewer_bytes(s, *best));
    if (better) best = &s;
  }
  if (!best) return;
  plan.recommended = best->strategy;
  if (!plan.timed) {
    plan.recommended_because = "fits, fewest bytes sent per device";
    return;
  }
  plan.recommended_because =
      fmt::format("fits, fastest: {} s per epoch", format_seconds(best->seconds_per_epoch));
  const StrategyPlan* next = nullptr;
  for (const StrategyPlan& s : plan.strategies)
    if (&s != best && plan.fits(s) && (!next || s.seconds_per_epoch < next->seconds_per_epoch))
      next = &s;
  if (next)
    plan.recommended_because +=
        fmt::format(" against {} for {}, the next that fits",
                    format_seconds(next->seconds_per_epoch), next->strategy);
}

}  // namespace

BatchShape sample_batch_shape(const graph::Graph& graph, const TrainOptions& options,
                              int64_t batch_size, int num_batches) {
  check(graph.has_structure, "{}: the planner samples batches from the structure", graph.name);
  std::vector<int32_t> train = sample::mask_nodes(graph.train_mask.span());
  check(!train.empty(), "{}: no training nodes", graph.name);
  KeyedRandom random(options.seed ^ 0x706c616eULL);  // a stream of the planner's own
  for (size_t i = train.size(); i > 1; --i) std::swap(train[i - 1], train[random.below(i)]);
  sample::NeighborSampler sampler(graph, {options.fanouts, options.seed, options.threads});
  BatchShape s;
  const size_t layers = options.fanouts.size();
  s.dst.assign(layers, 0);
  s.src.assign(layers, 0);
  s.edges.assign(layers, 0);
  const int64_t size = std::min<int64_t>(batch_size, static_cast<int64_t>(train.size()));
  int taken = 0;
  for (int b = 0; b < num_batches; ++b) {
    const size_t begin = static_cast<size_t>(b * size) % train.size();
    if (begin + size > train.size()) break;
    sample::Batch batch = sampler.sample(std::span(train).subspan(begin, size), b);
    for (size_t l = 0; l < layers; ++l) {
      s.dst[l] += batch.blocks[l].num_dst();
      s.src[l] += batch.blocks[l].num_src();
      s.edges[l] += batch.blocks[l].num_edges();
    }
    ++taken;
  }
  for (auto* v : {&s.dst, &s.src, &s.edges})
    for (double& x : *v) x /= std::max(1, taken);
  s.sampled = true;
  return s;
}

BatchShape estimate_batch_shape(int64_t num_nodes, int64_t num_edges,
                                const std::vector<int>& fanouts, int64_t batch_size) {
  const double n = static_cast<double>(std::max<int64_t>(1, num_nodes));
  const double degree = num_edges / n;
  const size_t layers = fanouts.size();
  BatchShape s;
  s.dst.assign(layers, 0);
  s.src.assign(layers, 0);
  s.edges.assign(layers, 0);
  double dst = std::min<double>(batch_size, n);
  for (size_t hop = 0; hop < layers; ++hop) {
    const size_t l = layers - 1 - hop;  // hops go from the seeds to the input layer
    const double draws = dst * (fanouts[hop] < 0 ? degree : std::min<double>(fanouts[hop], degree));
    s.dst[l] = dst;
    s.edges[l] = draws;
    // Distinct nodes among the draws, not already among the dst nodes.
    s.src[l] = dst + (n - dst) * (1 - std::exp(-draws / n));
    dst = s.src[l];
  }
  return s;
}

StepWork& StepWork::operator+=(const StepWork& o) {
  wide_flops += o.wide_flops;
  narrow_flops += o.narrow_flops;
  aggregation_bytes += o.aggregation_bytes;
  elementwise_bytes += o.elementwise_bytes;
  sampled_edges += o.sampled_edges;
  sent_bytes += o.sent_bytes;
  return *this;
}

int64_t StrategyPlan::largest_peak() const {
  int64_t peak = 0;
  for (const RankPlan& r : ranks) peak = std::max(peak, r.memory.total());
  return peak;
}

int64_t StrategyPlan::largest_bytes_sent() const {
  int64_t sent = 0;
  for (const RankPlan& r : ranks) sent = std::max(sent, r.bytes_sent_per_epoch);
  return sent;
}

bool Plan::fits_within(const StrategyPlan& s, double share) const {
  return s.runnable() && (!budget_bytes || s.largest_peak() <= *budget_bytes * share);
}

PlanGraph PlanGraph::of(const graph::Graph& g) {
  return {g.num_nodes,
          g.num_edges(),
          g.num_features,
          g.num_classes,
          static_cast<int64_t>(sample::mask_nodes(g.train_mask.span()).size()),
          g.has_structure ? &g : nullptr};
}

Plan make_plan(const PlanGraph& graph, const TrainOptions& options, const PlanRequest& request) {
  check(request.devices >= 1, "--devices: {} is not a positive device count", request.devices);
  Plan plan;
  plan.budget_bytes = request.budget_bytes;
  auto shape_of = [&](int64_t batch_size) -> BatchShape {
    if (options.full_batch) {
      const size_t layers = options.model.num_layers;
      const double n = graph.num_nodes, e = graph.num_edges;
      return {std::vector<double>(layers, n), std::vector<double>(layers, n),
              std::vector<double>(layers, e + n), true};
    }
    if (graph.graph) return sample_batch_shape(*graph.graph, options, batch_size);
    return estimate_batch_shape(graph.num_nodes, graph.num_edges, options.fanouts, batch_size);
  };
  plan.shape = shape_of(options.batch_size);
  plan.device_shape = request.devices > 1
                          ? shape_of(std::max<int64_t>(1, options.batch_size / request.devices))
                          : plan.shape;
  std::vector<const StrategyEntry*> entries;
  for (const std::string& name : request.strategies) entries.push_back(&strategy_entry(name));
  if (entries.empty())
    for (const StrategyEntry& e : strategy_entries()) entries.push_back(&e);
  const bool estimate_halo =
      !request.partition && graph.graph &&
      std::any_of(entries.begin(), entries.end(), [](auto* e) { return e->reads_partition; });
  const int64_t halo = estimate_halo ? random_halo(*graph.graph, request.devices) : 0;
  int64_t largest_halo = halo;
  if (request.partition)
    for (const auto& part : request.partition->parts) largest_halo = std::max(largest_halo, part.num_halo);
  for (const StrategyEntry* entry : entries) {
    // A lever the user left unset starts at the strategy's default.
    MemoryLevers start = options.levers;
    if (!request.fixed.eval_project_first) start.eval_project_first = entry->eval_project_first;
    if (!request.fixed.sampler_queue_depth) start.sampler_queue_depth = entry->sampler_queue_depth;
    TrainOptions entry_options = options;
    if (!request.fixed.feature_dtype) entry_options.feature_dtype = entry->feature_dtype;
    const PlanContext context(graph, entry_options, request, plan.shape, plan.device_shape, halo);
    const int64_t max_cache = largest_halo * context.row_bytes();
    std::optional<StrategyPlan> chosen;
    for (const MemoryLevers& levers : lever_candidates(start, request, *entry, max_cache)) {
      TrainOptions o = entry_options;
      o.levers = levers;
      StrategyPlan p;
      p.strategy = entry->name;
      p.feature_dtype = o.feature_dtype;
      p.levers = levers;
      p.devices = entry->max_devices == 1 ? 1 : request.devices;
      if (entry->supports(o.model.kind))
        p.ranks = entry->estimate(
            PlanContext(graph, o, request, plan.shape, plan.device_shape, halo), p.note);
      else
        p.note = fmt::format("does not train --model {}", nn::model_kind_name(o.model.kind));
      if (!p.runnable() || plan.fits_with_headroom(p)) {
        chosen = p;
        break;
      }
      if (!chosen || p.largest_peak() < chosen->largest_peak()) chosen = p;
    }
    chosen->levers_sized = chosen->levers != start;
    chosen->steps = context.steps;
    // Ranks that hold roles are a pipeline's stages.
    chosen->pipeline_micro_batches = entry->places_roles ? options.micro_batches : 0;
    if (request.timing) time_strategy(*chosen, *request.timing);
    plan.strategies.push_back(*chosen);
  }
  plan.timed = request.timing.has_value();
  recommend(plan);
  return plan;
}

std::string format_plan(const Plan& plan) {
  std::string out = fmt::format(
      "batch shape ({}): {} input nodes, {} edges per mini-batch\n",
      plan.shape.sampled ? "sampled" : "estimated",
      static_cast<int64_t>(plan.shape.src.empty() ? 0 : plan.shape.src.front()),
      static_cast<int64_t>(std::accumulate(plan.shape.edges.begin(), plan.shape.edges.end(), 0.0)));
  out += fmt::format(
      "{:<10} {:>4}  {:<22} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7} {:>6} {:>6} {:>7} {:>9}{}\n",
      "strategy", "rank", "roles", "base", "struct", "feat", "labels", "batch", "activ", "model",
      "comm", "total", "MB/epoch", plan.timed ? "   s/step" : "");
  out += fmt::format("{:<10} {:>4}  {:<22} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7} {:>6} {:>6} {:>7} {:>9}\n",
                     "", "", "", "MiB", "MiB", "MiB", "MiB", "MiB", "MiB", "MiB", "MiB", "MiB", "sent");
  for (const StrategyPlan& s : plan.strategies) {
    if (!s.runnable()) {
      out += fmt::format("{:<10}    -  cannot run: {}\n", s.strategy, s.note);
      continue;
    }
    for (const RankPlan& r : s.ranks) {
      const MemoryParts& m = r.memory;
      out += fmt::format(
          "{:<10} {:>4}  {:<22} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}{} {:>6} {:>6} {:>7} "
          "{:>9.1f}{}\n",
          r.rank == 0 ? s.strategy : "", r.rank, r.roles, mib(m.baseline), mib(m.structure),
          mib(m.features), mib(m.labels), mib(m.batches), mib(m.activations),
          m.eval_sets_peak ? "e" : " ", mib(m.model), mib(m.comm), mib(m.total()),
          r.bytes_sent_per_epoch / 1e6,
          plan.timed ? fmt::format(" {:>8.3f}", r.seconds_per_step) : "");
    }
    const bool fits = plan.fits(s);
    std::string verdict;
    if (plan.budget_bytes) {
      verdict = !fits ? "DOES NOT FIT"
                : plan.fits_with_headroom(s)
                    ? "fits"
                    : fmt::format("fits, with less than {:.0f} % to spare", 100 * kSizingHeadroom);
      verdict = fmt::format(" of {} budget: {}", runtime::format_bytes(*plan.budget_bytes), verdict);
    }
    out += fmt::format("{:<10}       largest {} MiB{}{}{}\n", "", mib(s.largest_peak()), verdict,
                       s.note.empty() ? "" : "; ", s.note);
    if (plan.timed)
      out += fmt::format("{:<10}       {} s per training epoch ({} steps)\n", "",
                         format_seconds(s.seconds_per_epoch), s.steps);
    out += fmt::format("{:<10}       with {}{}\n", "", lever_flags(s),
                       s.levers_sized ? (fits ? " (sized to fit)" : " (the smallest tried)") : "");
  }
  out += "batch, activ, comm: of the phase that sets the peak, training or evaluation (e)\n";
  if (!plan.timed)
    out += "time per epoch: give --emulate BOARD, or --profile FILE from 'edgegnn calibrate'\n";
  if (plan.budget_bytes || plan.timed)
    out += plan.recommended.empty()
               ? "recommended: none fits; lower --batch-size or --hidden, or add devices\n"
               : fmt::format("recommended: {} ({})\n", plan.recommended, plan.recommended_because);
  return out;
}

nlohmann::json plan_json(const Plan& plan) {
  nlohmann::json j;
  j["budget_bytes"] = plan.budget_bytes ? nlohmann::json(*plan.budget_bytes) : nlohmann::json();
  j["batch_shape"] = {{"sampled", plan.shape.sampled},
                      {"dst", plan.shape.dst},
                      {"src", plan.shape.src},
                      {"edges", plan.shape.edges}};
  j["recommended"] = plan.recommended;
  j["recommended_because"] = plan.recommended_because;
  j["timed"] = plan.timed;
  j["strategies"] = nlohmann::json::array();
  for (const StrategyPlan& s : plan.strategies) {
    nlohmann::json js{
        {"strategy", s.strategy},
        {"devices", s.devices},
        {"runnable", s.runnable()},
        {"fits", plan.fits(s)},
        {"note", s.note},
        {"largest_peak_bytes", s.largest_peak()},
        {"largest_bytes_sent_per_epoch", s.largest_bytes_sent()},
        {"steps_per_epoch", s.steps},
        {"seconds_per_epoch", plan.timed ? nlohmann::json(s.seconds_per_epoch) : nlohmann::json()},
        {"feature_dtype", graph::feature_dtype_name(s.feature_dtype)},
        {"levers",
         {{"eval_chunk_nodes", s.levers.eval_chunk_nodes},
          {"eval_order", eval_order_name(s.levers.eval_project_first)},
          {"sampler_queue_depth", s.levers.sampler_queue_depth},
          {"feature_cache_bytes", s.levers.feature_cache_bytes},
          {"sized", s.levers_sized}}}};
    js["ranks"] = nlohmann::json::array();
    for (const RankPlan& r : s.ranks) {
      const MemoryParts& m = r.memory;
      js["ranks"].push_back({{"rank", r.rank},
                             {"roles", r.roles},
                             {"baseline_bytes", m.baseline},
                             {"structure_bytes", m.structure},
                             {"features_bytes", m.features},
                             {"labels_bytes", m.labels},
                             {"batch_bytes", m.batches},
                             {"activations_bytes", m.activations},
                             {"evaluation_sets_peak", m.eval_sets_peak},
                             {"model_bytes", m.model},
                             {"comm_bytes", m.comm},
                             {"peak_bytes", m.total()},
                             {"bytes_sent_per_epoch", r.bytes_sent_per_epoch},
                             {"step_work",
                              {{"wide_flops", r.step.wide_flops},
                               {"narrow_flops", r.step.narrow_flops},
                               {"aggregation_bytes", r.step.aggregation_bytes},
                               {"elementwise_bytes", r.step.elementwise_bytes},
                               {"sampled_edges", r.step.sampled_edges},
                               {"sent_bytes", r.step.sent_bytes}}},
                             {"seconds_per_step",
                              plan.timed ? nlohmann::json(r.seconds_per_step) : nlohmann::json()}});
    }
    j["strategies"].push_back(js);
  }
  return j;
}

std::string lever_flags(const StrategyPlan& s) {
  return fmt::format("--feature-dtype {} {}", graph::feature_dtype_name(s.feature_dtype),
                     lever_flags(strategy_entry(s.strategy), s.levers));
}

std::string describe_misfit(const Plan& plan, const StrategyPlan& s) {
  if (!s.runnable()) return fmt::format("--strategy {}: {}", s.strategy, s.note);
  const RankPlan* worst = &s.ranks.front();
  for (const RankPlan& r : s.ranks)
    if (r.memory.total() > worst->memory.total()) worst = &r;
  const MemoryParts& m = worst->memory;
  return fmt::format(
      "--memory-budget {}: the plan for --strategy {} on {} device(s) needs {} on rank {} ({}): "
      "baseline {}, structure {}, features {}, labels {}, batches {}, {} {}, model {}, comm {} "
      "MiB{}; see 'edgegnn plan', or --force to run anyway",
      runtime::format_bytes(plan.budget_bytes.value_or(0)), s.strategy, s.devices,
      runtime::format_bytes(m.total()), worst->rank, worst->roles, mib(m.baseline),
      mib(m.structure), mib(m.features), mib(m.labels), mib(m.batches),
      m.eval_sets_peak ? "evaluation" : "activations", mib(m.activations), mib(m.model),
      mib(m.comm), s.levers_sized ? ", even with " + lever_flags(s) : "");
}

}  // namespace edgegnn::train
