#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "cli/commands.h"
#include "comm/communicator.h"
#include "core/parallel.h"
#include "graph/dataset.h"
#include "partition/open_partition.h"
#include "runtime/board.h"
#include "runtime/checkpoint.h"
#include "runtime/launcher.h"
#include "runtime/memory_budget.h"
#include "runtime/memory_meter.h"
#include "runtime/size.h"
#include "runtime/threads.h"
#include "train/compress_features.h"
#include "train/part_view.h"
#include "train/pipeline_strategy.h"
#include "train/strategy_registry.h"
#include "train/trainer.h"

namespace edgegnn::cli {
namespace {

void write_text_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    check(out.good(), "--metrics-out: cannot write {}", path);
    out << text;
    check(out.good(), "--metrics-out: write to {} failed", path);
  }
  check(std::rename(tmp.c_str(), path.c_str()) == 0, "--metrics-out: cannot write {}", path);
}

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::optional<std::string>(value) : std::nullopt;
}

int env_int(const char* name, int fallback) {
  auto value = env(name);
  if (!value) return fallback;
  try {
    return std::stoi(*value);
  } catch (const std::exception&) {
    fail("environment variable {}='{}' is not a number", name, *value);
  }
}

// A process is a worker of a distributed run when a launcher placed it: our
// local launcher, torchrun-style variables on a multi-host run, or mpirun.
bool is_worker(const TrainArgs& args) {
  return env(runtime::kWorkerEnv) || env("RANK") || env("OMPI_COMM_WORLD_RANK") || args.rank >= 0;
}

// `--devices N` with no host settings: N workers of this same command on
// loopback (under mpirun for --backend mpi), and this process waits for them.
// `sized_levers`: flags of the levers the plan set, which workers do not plan.
int launch_local_workers(const TrainArgs& args, const std::vector<std::string>& sized_levers) {
  // mpirun starts its ranks through daemons it reaches by ssh: on boards, that
  // is the emulated rack's way in, `edgegnn launch --emulate`.
  if (args.backend == "mpi" && !args.emulate.empty()) {
    LaunchArgs rack;
    rack.emulate = args.emulate;
    rack.devices = args.devices;
    rack.quiet = true;
    rack.command = {"train"};
    const std::vector<std::string>& line = args.command_line;
    for (size_t i = 2; i < line.size(); ++i) {
      if (line[i] == "--devices" || line[i] == "--emulate") ++i;  // and its value
      else if (!line[i].starts_with("--devices=") && !line[i].starts_with("--emulate="))
        rack.command.push_back(line[i]);
    }
    rack.command.insert(rack.command.end(), sized_levers.begin(), sized_levers.end());
    return run_launch(rack);
  }
  std::vector<std::string> command{std::filesystem::read_symlink("/proc/self/exe").string()};
  command.insert(command.end(), args.command_line.begin() + 1, args.command_line.end());
  command.insert(command.end(), sized_levers.begin(), sized_levers.end());
  runtime::LaunchOptions launch;
  launch.num_workers = args.devices;
  // Under mpirun the launcher sees one worker, mpirun itself.
  if (train::strategy_entry(args.strategy).places_roles && args.backend != "mpi") {
    const train::Placement placement =
        train::parse_placement(args.placement, args.options.model.num_layers, args.devices);
    for (int r = 0; r < args.devices; ++r) launch.labels.push_back(placement.roles_of(r));
  }
  if (args.backend == "mpi") {
    std::vector<std::string> mpirun{"mpirun", "--oversubscribe", "-np", std::to_string(args.devices)};
    if (geteuid() == 0) mpirun.push_back("--allow-run-as-root");
    command.insert(command.begin(), mpirun.begin(), mpirun.end());
    launch.num_workers = 1;  // mpirun starts the ranks
  }
  launch.argv = command;
  if (!args.emulate.empty())
    launch.boards = runtime::parse_boards(args.emulate, args.devices, "--emulate");
  if (args.enforce_memory == "cgroup") {
    check(args.options.memory_budget_bytes.has_value(),
          "--enforce-memory cgroup: needs --memory-budget SIZE");
    launch.memory_limit_bytes = args.options.memory_budget_bytes;
  }
  runtime::LaunchResult result = runtime::launch_local(launch);
  for (const auto& warning : result.warnings) fmt::print(stderr, "edgegnn: warning: {}\n", warning);
  if (!result.ok()) fmt::print(stderr, "edgegnn: error: {}\n", result.message);
  return result.exit_code();
}

// --emulate belongs to the local launcher; a bad use fails before any worker starts.
void check_emulate(const TrainArgs& args) {
  check(train::strategy_entry(args.strategy).max_devices != 1,
        "--emulate: runs each device as a local worker; needs --strategy data, pipeline or "
        "partition with --devices N");
  check(!is_worker(args), "--emulate: only for a local run (--devices N), not with --rank or RANK");
  check(args.enforce_memory.empty(),
        "--enforce-memory: not with --emulate, whose boards set each worker's memory limit");
  runtime::parse_boards(args.emulate, args.devices, "--emulate");
}

partition::PartitionOpenOptions partition_options(const train::TrainOptions& o, int rank,
                                                  int num_ranks) {
  partition::PartitionOpenOptions options;
  options.part = rank;
  options.num_ranks = num_ranks;
  // `--dataset edgegnn` names no dataset; any other name must be the one partitioned.
  if (o.dataset != "edgegnn") options.expected.name = o.dataset;
  return options;
}

// Before starting workers: the partition at --root is of --dataset, has one
// part per device, and every part is there.
void check_partition(const train::TrainOptions& o, int devices) {
  check(!o.root.empty(), "--strategy partition: needs --root, a directory written by 'edgegnn "
                         "partition'");
  partition::open_partition(o.root, partition_options(o, 0, devices));
  for (int k = 1; k < devices; ++k) {
    const auto dir = partition::part_directory(o.root, k);
    check(std::filesystem::exists(dir / "manifest.json"), "--root: part {} of {} is missing: {}", k,
          devices, (dir / "manifest.json").string());
  }
}

}  // namespace

void prepare_train_options(TrainArgs& args) {
  train::TrainOptions& o = args.options;
  check(args.devices >= 1, "--devices: {} is not a positive device count", args.devices);
  const train::StrategyEntry& entry = train::strategy_entry(args.strategy);
  check(entry.places_roles || args.placement.empty(), "--placement: only for --strategy pipeline");
  check(args.backend == "gloo" || args.backend == "mpi", "--backend: unknown backend '{}' (gloo, mpi)",
        args.backend);
  check(args.comm_timeout_seconds > 0, "--comm-timeout: {} is not a positive number of seconds",
        args.comm_timeout_seconds);
  if (!args.memory_budget.empty())
    o.memory_budget_bytes = runtime::parse_size(args.memory_budget, "--memory-budget");
  o.gradient_bucket_bytes = runtime::parse_size(args.bucket_size, "--bucket-size");
  if (!args.feature_cache.empty())
    o.levers.feature_cache_bytes = runtime::parse_size(args.feature_cache, "--feature-cache");
  o.feature_dtype = args.feature_dtype.empty() ? entry.feature_dtype
                                                : graph::parse_feature_dtype(args.feature_dtype);
  o.decay_first_layer_only = args.weight_decay_layers == "first";
  o.progress = !args.quiet;
  if (args.eval_chunk) o.levers.eval_chunk_nodes = *args.eval_chunk;
  if (!args.eval_order.empty()) o.levers.eval_project_first = train::parse_eval_order(args.eval_order);
  if (args.sampler_queue) o.levers.sampler_queue_depth = *args.sampler_queue;
  if (args.eval_order.empty()) o.levers.eval_project_first = entry.eval_project_first;
  if (!args.sampler_queue) o.levers.sampler_queue_depth = entry.sampler_queue_depth;
  train::validate(o);
  train::check_supported(entry, args.devices, o, given_levers(args));
}

int run_train(TrainArgs& args) {
  prepare_train_options(args);
  train::TrainOptions& o = args.options;
  const train::StrategyEntry& entry = train::strategy_entry(args.strategy);
  const bool pipeline = entry.places_roles;
  const bool partitioned = entry.reads_partition;
  // A bad placement or partition fails here, before any worker starts.
  if (pipeline) train::parse_placement(args.placement, o.model.num_layers, args.devices);
  if (partitioned && !is_worker(args)) check_partition(o, args.devices);
  if (!args.emulate.empty() && !env(runtime::kWorkerEnv)) check_emulate(args);
  const bool distributed = entry.max_devices != 1;
  // Workers a launcher started run with the levers it planned; a multi-host
  // worker plans nothing, and runs with the levers its flags give.
  const bool plan = o.memory_budget_bytes && !is_worker(args);
  if (distributed && !is_worker(args))
    return launch_local_workers(args, plan ? fit_plan_to_budget(args, nullptr)
                                           : std::vector<std::string>{});

  std::unique_ptr<comm::Communicator> communicator;
  int rank = 0;
  if (distributed) {
    comm::CommOptions c;
    c.backend = args.backend;
    c.rank = args.rank >= 0 ? args.rank : env_int("RANK", 0);
    c.size = args.world_size > 0 ? args.world_size : env_int("WORLD_SIZE", args.devices);
    c.master_addr = args.master_addr.empty() ? env("MASTER_ADDR").value_or("127.0.0.1") : args.master_addr;
    c.master_port = args.master_port > 0 ? args.master_port : env_int("MASTER_PORT", 29500);
    c.timeout = std::chrono::milliseconds(static_cast<int64_t>(args.comm_timeout_seconds * 1000));
    communicator = comm::make_communicator(c);
    rank = communicator->rank();
  }
  // Logs stay readable with one progress display: rank 0's.
  o.progress = o.progress && rank == 0;

  // Workers sharing a host (local emulated devices, a hostfile's slots) share
  // its cores instead of each taking all. Under mpirun its local size counts:
  // a LOCAL_WORLD_SIZE there is the launcher's, which sees mpirun alone.
  const int local_workers =
      env_int("OMPI_COMM_WORLD_LOCAL_SIZE", env_int("LOCAL_WORLD_SIZE", 1));
  if (o.threads == 0 && local_workers > 1)
    o.threads = std::max(1, available_cores() / local_workers);
  o.threads = runtime::configure_threads(o.threads);
  // A bad checkpoint fails now, not after loading the data.
  if (o.resume) runtime::read_checkpoint_meta(o.checkpoint_dir);
  std::optional<train::Placement> placement;
  graph::LoadOptions load{.seed = o.seed,
                          .num_threads = o.threads,
                          .parts = {},
                          .memory_budget_bytes = o.memory_budget_bytes.value_or(0)};
  if (pipeline) {
    placement = train::parse_placement(args.placement, o.model.num_layers, communicator->size());
    load.parts = train::graph_parts_for(*placement, rank);
  }
  std::optional<partition::Partition> part;
  graph::Graph g;
  if (partitioned) {
    part = partition::open_partition(o.root, partition_options(o, rank, communicator->size()));
    g = std::move(part->graph);
  } else {
    // Ranks load the same data: the first that holds the features (rank 0,
    // but for the pipeline's) alone says what is wrong with them.
    bool first_with_features = true;
    for (int r = 0; r < rank; ++r)
      if (!placement || train::graph_parts_for(*placement, r).features) first_with_features = false;
    g = first_with_features ? load_dataset_and_warn(o.dataset, o.root, load)
                            : graph::load_dataset(o.dataset, o.root, load);
  }
  if (plan) fit_plan_to_budget(args, &g);
  // The watch reads the process's peak since start (VmHWM), so loading counts
  // though it starts now: after the plan, which names a misfit better.
  std::unique_ptr<runtime::MemoryWatch> watch;
  if (o.memory_budget_bytes)
    watch = std::make_unique<runtime::MemoryWatch>(runtime::MemoryWatchOptions{
        rank, *o.memory_budget_bytes, 0.05, runtime::exit_over_budget});
  if (o.normalize_features && g.has_features) graph::row_normalize_features(g);
  // Partition ranks send rows as codes: their int8 column ranges must agree.
  train::compress_features(g, o.feature_dtype, partitioned ? communicator.get() : nullptr);
  o.model.in_features = g.num_features;
  o.model.num_classes = g.num_classes;
  if (o.progress)
    fmt::print(stderr, "{}{}: {} nodes, {} edges, {} features, {} classes; {} {}x{} on {} threads\n",
               g.name, part ? fmt::format(" part {} of {}", rank, part->book.num_parts) : "",
               g.num_nodes, g.num_edges(), g.num_features, g.num_classes, nn::model_kind_name(o.model.kind),
               o.model.num_layers, o.model.hidden, o.threads);
  // Only rank 0 writes checkpoints: the weights are the same on every rank.
  o.write_checkpoints = rank == 0;

  train::TrainingState state = train::make_training_state(o);
  std::optional<train::PartView> view;
  if (partitioned)
    view.emplace(train::PartView{g, g.global_ids.span(), part->book.offsets});
  if (pipeline && o.progress) fmt::print(stderr, "pipeline: {}\n", placement->describe());
  std::unique_ptr<train::Strategy> strategy =
      entry.make({g, state, o, communicator.get(), view ? &*view : nullptr,
                  placement ? &*placement : nullptr});
  train::RunRecord record = train::Trainer(*strategy, state, o).run();
  if (watch) watch->check();
  if (rank != 0) return 0;

  fmt::print("test accuracy {:.4f} (best validation {:.4f} at epoch {}), last epoch: val {:.4f} "
             "test {:.4f}\n",
             record.best_test_acc, record.best_val_acc, record.best_epoch, record.last.val,
             record.last.test);
  int64_t largest_peak = 0;
  for (const auto& d : record.devices) largest_peak = std::max(largest_peak, d.peak_rss_bytes);
  fmt::print("peak memory {:.1f} MiB{}, {:.1f} s in {} epochs\n", largest_peak / 1048576.0,
             record.devices.size() > 1 ? " (largest device)" : "", record.seconds_total,
             record.epochs.size());
  if (!o.metrics_out.empty())
    write_text_atomically(
        o.metrics_out,
        train::metrics_json(record, o, strategy->name(), communicator ? communicator->size() : 1,
                            communicator ? args.backend : "none")
                .dump(2) +
            "\n");
  return 0;
}

}  // namespace edgegnn::cli
