// The edgegnn subcommands. Each run_* takes its parsed options, does the work,
// prints its report on stdout and progress on stderr, and throws Error on bad
// input; main() turns that into one line and exit code 2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "graph/dataset.h"
#include "graph/graph.h"
#include "train/memory_plan.h"
#include "train/train_options.h"

namespace edgegnn::cli {

struct DatasetArgs {
  std::string dataset;  // --dataset
  std::string root;     // --root
  uint64_t seed = 0;    // --seed
  int threads = 0;      // --threads, 0 = the cores available
};

// graph::load_dataset, printing each of its warnings on stderr as one line
// "edgegnn: warning: <message>".
graph::Graph load_dataset_and_warn(const std::string& dataset, const std::string& root,
                                   const graph::LoadOptions& options);

struct InfoArgs {
  DatasetArgs data;
  bool json = false;  // --json: one JSON object instead of the table
};
void run_info(const InfoArgs& args);

struct GenerateArgs {
  std::string preset;  // --preset
  std::string out;     // --out
  double scale = 1;    // --scale: share of the preset's nodes and edges
  uint64_t seed = 0;
  int threads = 0;
};
void run_generate(const GenerateArgs& args);

struct CalibrateArgs {
  std::string out;     // --out: the profile's JSON file; empty = print only
  int threads = 0;     // --threads, 0 = the cores available
  double seconds = 2;  // --seconds: each probe's timed rounds
  std::string peer;    // --peer HOST: probe the link to a board running calibrate too
  bool listen = false;  // --listen: this side hosts the link probe's rendezvous
  int master_port = 29500;  // --master-port: the rendezvous's port, the same on both
};
void run_calibrate(const CalibrateArgs& args);

struct PartitionArgs {
  DatasetArgs data;               // --seed also seeds METIS and the random split
  int num_parts = 0;              // --parts
  std::string method = "metis";   // --method metis | random
  std::string out;                // --out: the partition directory
  bool json = false;              // --json: partition.json plus timings instead of the table
};
void run_partition(const PartitionArgs& args);

struct TrainArgs {
  train::TrainOptions options;
  std::string strategy = "single";
  std::string model = "sage";  // --model, into options.model.kind
  int devices = 1;
  std::string backend = "gloo";             // gloo | mpi
  std::string weight_decay_layers = "all";  // all | first
  bool quiet = false;
  std::string memory_budget;   // --memory-budget SIZE, "" = none
  std::string bucket_size = "25MiB";  // --bucket-size SIZE
  std::string placement;  // --placement ROLE:RANK,... (pipeline)
  std::string feature_cache;  // --feature-cache SIZE (partition); "" = 0, or sized to the budget
  std::string feature_dtype;  // --feature-dtype float32 | float16 | int8; "": the strategy's default
  std::string enforce_memory;  // --enforce-memory cgroup
  std::string emulate;         // --emulate BOARD[,BOARD...] (runtime/board.h), "" = loopback
  double comm_timeout_seconds = 60;
  // Multi-host placement (torchrun-style; the environment variables RANK,
  // WORLD_SIZE, MASTER_ADDR, MASTER_PORT say the same). -1 / 0 / "": unset.
  int rank = -1;
  int world_size = 0;
  std::string master_addr;
  int master_port = 0;
  // Memory levers given on the command line (into options.levers); with
  // --memory-budget the plan sizes the others, else they keep their defaults.
  std::optional<int64_t> eval_chunk;  // --eval-chunk N
  std::string eval_order;             // --eval-order project-first | aggregate-first
  std::optional<int> sampler_queue;   // --sampler-queue N
  bool force = false;  // --force: train even where the memory plan does not fit
  std::vector<std::string> command_line;  // this process's argv, to start workers with
};
// Returns the process exit code (a local launch returns its workers').
int run_train(TrainArgs& args);
// The levers train's flags give (the plan sizes the others).
train::FixedLevers given_levers(const TrainArgs& args);
// Checks train's flags against each other and fills the options they parse
// into (sizes, dtype); shared with `plan`.
void prepare_train_options(TrainArgs& args);

struct PlanArgs {
  TrainArgs train;             // the run to plan: dataset, model, --devices, --memory-budget
  bool all_strategies = true;  // no --strategy given
  std::string partition;       // --partition DIR: plan the partition strategy on these parts
  std::string profile;         // --profile FILE[,FILE...]: device rates from `edgegnn calibrate`
  bool local = false;          // --local: every device runs on this machine, sharing its cores
  bool json = false;
};
void run_plan(PlanArgs& args);
// `train --memory-budget`: plans the run's strategy, sets the levers the user
// left unset to the plan's (returning the flags of those it set), and, without
// --force, throws Error with the plan's numbers when it does not fit.
// `graph`: the dataset as this process holds it (structure at least), or null
// to load it for the plan.
std::vector<std::string> fit_plan_to_budget(TrainArgs& args, const graph::Graph* graph);

struct LaunchArgs {
  std::string hosts;                          // --hosts FILE (runtime/hostfile.h)
  std::string emulate;                        // --emulate BOARDS: an emulated rack instead
  int devices = 1;                            // --devices: its boards
  std::string ssh = "ssh -o BatchMode=yes";   // --ssh: the client and its options
  std::string remote_edgegnn = "edgegnn";     // --remote-edgegnn: the binary on the hosts
  bool stage = false;                         // --stage: copy --root's data to the hosts
  std::string stage_dir = "edgegnn-data";     // --stage-dir: where, on each host
  int master_port = 0;                        // --master-port, on the first host; 0: a free one
  bool quiet = false;
  std::vector<std::string> command;           // after --: train ARGS...
};
// Starts one worker per hostfile slot (or emulated board) over ssh and relays
// them as the local launcher does; returns the exit code.
int run_launch(const LaunchArgs& args);

struct EvalArgs {
  DatasetArgs data;
  std::string checkpoint;
  int64_t eval_chunk = 8192;                 // --eval-chunk
  std::string eval_order = "project-first";  // --eval-order
  std::string feature_dtype = "float32";  // --feature-dtype float32 | float16 | int8
};
void run_eval(const EvalArgs& args);

}  // namespace edgegnn::cli
