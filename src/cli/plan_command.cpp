#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "cli/commands.h"
#include "core/error.h"
#include "graph/dataset.h"
#include "partition/open_partition.h"
#include "runtime/board.h"
#include "runtime/board_profile.h"
#include "runtime/size.h"
#include "train/memory_plan.h"
#include "train/strategy_registry.h"

namespace edgegnn::cli {
namespace {

constexpr int64_t kEthernetBitsPerSecond = 1'000'000'000;

// The dataset's structure, counts and masks: what the planner samples from.
graph::Graph load_for_plan(const train::TrainOptions& o) {
  return graph::load_dataset(o.dataset, o.root,
                             {.seed = o.seed, .num_threads = o.threads, .parts = {true, false}});
}

// Where the devices run, for the time model: the boards' presets or the
// profile files for their rates; the boards' links, else the profile's, else
// loopback (--local) or 1 Gbit/s Ethernet. None without boards or profiles.
std::optional<train::Timing> plan_timing(const PlanArgs& args) {
  const TrainArgs& t = args.train;
  std::vector<runtime::Board> boards;
  if (!t.emulate.empty()) boards = runtime::parse_boards(t.emulate, t.devices, "--emulate");
  if (boards.empty() && args.profile.empty()) return std::nullopt;
  // A custom board's rates come only from its profile.
  if (args.profile.empty() && std::any_of(boards.begin(), boards.end(),
                                          [](auto& b) { return !runtime::preset_profile(b); }))
    return std::nullopt;
  train::Timing timing;
  timing.one_machine = args.local;
  timing.threads = t.options.threads;
  std::vector<std::string> files;
  std::istringstream items(args.profile);
  for (std::string item; std::getline(items, item, ',');) files.push_back(item);
  check(args.profile.empty() || files.size() == 1 || static_cast<int>(files.size()) == t.devices,
        "--profile: {} files for {} devices (give one for all, or one per device)", files.size(),
        t.devices);
  check(!args.local || files.size() <= 1,
        "--profile: --local devices share one machine; give its one profile");
  for (int d = 0; d < t.devices; ++d) {
    const runtime::BoardProfile profile =
        files.empty() ? *runtime::preset_profile(boards[d])
                      : runtime::read_board_profile(files[files.size() == 1 ? 0 : d], "--profile");
    const int64_t link = !boards.empty()                ? boards[d].link_bits_per_second
                         : profile.link_bits_per_second ? profile.link_bits_per_second
                         : args.local                   ? 0
                                                        : kEthernetBitsPerSecond;
    timing.profiles.push_back(profile);
    timing.link_bits_per_second.push_back(link);
  }
  return timing;
}

// "time model: rates of pi4-1g (published figures, ...); links 1gbit".
std::string describe_timing(const train::Timing& timing) {
  const runtime::BoardProfile& first = timing.profiles.front();
  const bool alike = std::all_of(timing.profiles.begin(), timing.profiles.end(),
                                 [&](const auto& p) { return p.name == first.name; });
  std::string links = "loopback";
  if (timing.link_bits_per_second.front() > 0)
    links = runtime::format_link_rate(timing.link_bits_per_second.front());
  return fmt::format(
      "time model: rates of {}{}{}; links {}{}", alike ? first.name : "each device's profile",
      alike && !first.source.empty() ? " (" + first.source + ")" : "",
      timing.one_machine ? fmt::format(", its {} cores shared by the devices", first.cores) : "",
      links, timing.threads > 0 ? fmt::format("; {} threads per device", timing.threads) : "");
}

train::TrainOptions with_model_shape(train::TrainOptions o, const train::PlanGraph& g) {
  o.model.in_features = g.num_features;
  o.model.num_classes = g.num_classes;
  return o;
}

}  // namespace

train::FixedLevers given_levers(const TrainArgs& args) {
  return {args.eval_chunk.has_value(), !args.eval_order.empty(), args.sampler_queue.has_value(),
          !args.feature_cache.empty(), !args.feature_dtype.empty()};
}

void run_plan(PlanArgs& args) {
  TrainArgs& t = args.train;
  // Validated as one run; all four strategies are planned.
  if (args.all_strategies) t.strategy = t.devices > 1 ? "data" : "single";
  prepare_train_options(t);
  const train::TrainOptions& o = t.options;
  train::PlanRequest request;
  request.devices = t.devices;
  request.budget_bytes = o.memory_budget_bytes;
  request.fixed = given_levers(t);
  // Boards without --memory-budget: the budget is the smallest board's memory
  // limit (its RAM less the OS reserve), what a worker gets under --emulate.
  if (!t.emulate.empty() && !request.budget_bytes) {
    for (const runtime::Board& b : runtime::parse_boards(t.emulate, t.devices, "--emulate"))
      request.budget_bytes = std::min(request.budget_bytes.value_or(b.memory_limit_bytes()),
                                      b.memory_limit_bytes());
  }
  request.placement = t.placement;
  request.timing = plan_timing(args);
  if (!args.all_strategies) request.strategies = {t.strategy};
  if (!args.partition.empty()) {
    const partition::PartitionBook book = partition::open_partition_book(args.partition);
    check(book.num_parts == t.devices, "--partition: {} has {} parts but --devices is {}",
          args.partition, book.num_parts, t.devices);
    request.partition = book.summary;
  }
  const graph::Graph g = load_for_plan(o);
  const train::PlanGraph plan_graph = train::PlanGraph::of(g);
  const train::Plan plan = train::make_plan(plan_graph, with_model_shape(o, plan_graph), request);
  if (args.json) {
    nlohmann::json j = train::plan_json(plan);
    j["dataset"] = g.name;
    j["devices"] = t.devices;
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("{}: {} nodes, {} edges, {} features; {} {}x{}{}, batch {}, fanouts {}; {} device(s){}\n",
             g.name, g.num_nodes, g.num_edges(), g.num_features, nn::model_kind_name(o.model.kind), o.model.num_layers,
             o.model.hidden, o.model.heads > 1 ? fmt::format(" x {} heads", o.model.heads) : "",
             o.batch_size, fmt::join(o.fanouts, ","), t.devices,
             request.budget_bytes
                 ? fmt::format(" of {} each", runtime::format_bytes(*request.budget_bytes))
                 : "");
  if (request.timing) fmt::print("{}\n", describe_timing(*request.timing));
  fmt::print("{}", train::format_plan(plan));
}

std::vector<std::string> fit_plan_to_budget(TrainArgs& args, const graph::Graph* graph) {
  train::TrainOptions& o = args.options;
  train::PlanRequest request;
  request.devices = args.devices;
  request.budget_bytes = o.memory_budget_bytes;
  request.fixed = given_levers(args);
  request.placement = args.placement;
  request.strategies = {args.strategy};
  std::optional<graph::Graph> loaded;
  train::PlanGraph plan_graph;
  if (train::strategy_entry(args.strategy).reads_partition) {
    request.partition = partition::open_partition_book(o.root).summary;
    // This machine holds every part (the local launcher checked): the plan
    // samples real batches from them joined, as `plan --partition` does from
    // the whole graph, instead of estimating their shape.
    plan_graph = train::PlanGraph::of(loaded.emplace(partition::join_parts(o.root)));
  } else {
    if (!graph) graph = &loaded.emplace(load_for_plan(o));
    plan_graph = train::PlanGraph::of(*graph);
  }
  const train::Plan plan = train::make_plan(plan_graph, with_model_shape(o, plan_graph), request);
  const train::StrategyPlan& s = plan.strategies.front();
  if (!plan.fits(s)) {
    if (!args.force) fail("{}", train::describe_misfit(plan, s));
    fmt::print(stderr, "edgegnn: warning: {}; training anyway (--force)\n",
               train::describe_misfit(plan, s));
  } else if (!plan.fits_with_headroom(s)) {
    fmt::print(stderr,
               "edgegnn: warning: --memory-budget {}: the plan's largest device needs {}, less "
               "than {:.0f} % under the budget, as much as the planner has missed by; the run "
               "may cross it\n",
               runtime::format_bytes(*o.memory_budget_bytes), runtime::format_bytes(s.largest_peak()),
               100 * train::kSizingHeadroom);
  }
  std::vector<std::string> flags;
  const train::MemoryLevers asked = o.levers;
  o.levers = s.levers;
  if (s.levers.eval_chunk_nodes != asked.eval_chunk_nodes)
    flags.insert(flags.end(), {"--eval-chunk", std::to_string(s.levers.eval_chunk_nodes)});
  if (s.levers.eval_project_first != asked.eval_project_first)
    flags.insert(flags.end(), {"--eval-order", train::eval_order_name(s.levers.eval_project_first)});
  if (s.levers.sampler_queue_depth != asked.sampler_queue_depth)
    flags.insert(flags.end(), {"--sampler-queue", std::to_string(s.levers.sampler_queue_depth)});
  if (s.levers.feature_cache_bytes != asked.feature_cache_bytes)
    flags.insert(flags.end(), {"--feature-cache", std::to_string(s.levers.feature_cache_bytes)});
  if (!flags.empty() && o.progress)
    fmt::print(stderr, "memory plan: largest device {} of {}, with {}{}\n",
               runtime::format_bytes(s.largest_peak()), runtime::format_bytes(*o.memory_budget_bytes),
               train::lever_flags(s), plan.fits(s) ? " (sized to fit)" : "");
  return flags;
}

}  // namespace edgegnn::cli
