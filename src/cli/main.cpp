// edgegnn: train graph neural networks on clusters of small devices.
// Only this file catches: an Error is one line on stderr and exit code 2, a bad
// flag too (with a usage hint); anything else is a bug and exits 1.
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <new>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "runtime/launcher.h"
#include "core/error.h"
#include "train/strategy_registry.h"

namespace {

using namespace edgegnn::cli;

void add_dataset_flags(CLI::App* cmd, DatasetArgs& data) {
  cmd->add_option("--dataset", data.dataset,
                  "cora | citeseer | pubmed | reddit | npz | edgegnn | edgelist | metis | "
                  "synthetic-<preset>")
      ->required();
  cmd->add_option("--root", data.root, "where the dataset's files are (not for synthetic-*)");
  cmd->add_option("--seed", data.seed, "seed for generated data and splits")->default_val(0);
  cmd->add_option("--threads", data.threads, "threads (0 = the cores available)")
      ->default_val(0);
}

// --model gcn without further flags trains as the GCN paper (Kipf & Welling):
// full batch, row-normalised features, 16 hidden, dropout 0.5 on input and
// hidden, weight decay 5e-4 on the first layer only, 200 epochs. --model gat
// trains as PyG's examples/gat.py (the GAT paper's Cora settings): full
// batch, row-normalised features, 8 heads of 8, dropout 0.6 on input, hidden
// and attention, lr 0.005, weight decay 5e-4, 200 epochs. Flags given
// explicitly win.
void apply_model_defaults(CLI::App* cmd, TrainArgs& args) {
  using edgegnn::nn::ModelKind;
  auto& o = args.options;
  o.model.kind = edgegnn::nn::parse_model_kind(args.model);
  if (o.model.kind == ModelKind::kSage) return;
  auto unset = [&](const char* flag) { return cmd->count(flag) == 0; };
  const bool gat = o.model.kind == ModelKind::kGat;
  if (unset("--hidden")) o.model.hidden = gat ? 8 : 16;
  if (unset("--input-dropout")) o.model.input_dropout = gat ? 0.6 : 0.5;
  if (unset("--weight-decay")) o.weight_decay = 5e-4;
  if (unset("--epochs")) o.epochs = 200;
  if (unset("--normalize-features")) o.normalize_features = true;
  if (unset("--full-batch") && unset("--batch-size") && unset("--fanouts")) o.full_batch = true;
  if (!gat) {
    if (unset("--weight-decay-layers")) args.weight_decay_layers = "first";
    return;
  }
  if (unset("--heads")) o.model.heads = 8;
  if (unset("--dropout")) o.model.dropout = 0.6;
  if (unset("--attention-dropout")) o.model.attention_dropout = 0.6;
  if (unset("--lr")) o.lr = 0.005;
}

void add_train_flags(CLI::App* cmd, TrainArgs& args) {
  auto& o = args.options;
  cmd->add_option("--dataset", o.dataset,
                  "cora | citeseer | pubmed | reddit | npz | edgegnn | edgelist | metis | "
                  "synthetic-<preset>")
      ->required();
  cmd->add_option("--root", o.root, "where the dataset's files are (not for synthetic-*)");
  cmd->add_option("--model", args.model, "sage | gcn | gat")->default_val("sage");
  cmd->add_option("--layers", o.model.num_layers, "layers")->default_val(2);
  cmd->add_option("--hidden", o.model.hidden, "hidden width (gcn: 16; gat: 8 per head)")
      ->default_val(256);
  cmd->add_option("--heads", o.model.heads, "gat: attention heads of each hidden layer (8)")
      ->default_val(1);
  cmd->add_option("--fanouts", o.fanouts, "neighbours sampled per hop from the seeds, -1 = all")
      ->delimiter(',')
      ->default_str("25,10");
  cmd->add_option("--batch-size", o.batch_size, "seed nodes per mini-batch")->default_val(1024);
  cmd->add_flag("--full-batch,!--mini-batch", o.full_batch,
                "one step per epoch on the whole graph (gcn, gat: default)");
  cmd->add_flag("--normalize-features,!--raw-features", o.normalize_features,
                "scale feature rows to sum 1 (gcn, gat: default)");
  cmd->add_option("--epochs", o.epochs, "epochs (gcn, gat: 200)")->default_val(10);
  cmd->add_option("--lr", o.lr, "Adam learning rate (gat: 0.005)")->default_val(0.01);
  cmd->add_option("--dropout", o.model.dropout, "dropout after hidden layers (gat: 0.6)")
      ->default_val(0.5);
  cmd->add_option("--input-dropout", o.model.input_dropout,
                  "dropout on input features (gcn: 0.5, gat: 0.6)")
      ->default_val(0.0);
  cmd->add_option("--attention-dropout", o.model.attention_dropout,
                  "gat: dropout on attention coefficients (0.6)")
      ->default_val(0.0);
  cmd->add_option("--weight-decay", o.weight_decay, "Adam weight decay (gcn, gat: 5e-4)")
      ->default_val(0.0);
  cmd->add_option("--weight-decay-layers", args.weight_decay_layers, "all | first (gcn: first)")
      ->check(CLI::IsMember({"all", "first"}))
      ->default_val("all");
  cmd->add_option("--seed", o.seed, "random seed")->default_val(0);
  cmd->add_option("--threads", o.threads, "threads (0 = the cores available)")->default_val(0);
  cmd->add_option("--eval-every", o.eval_every, "epochs between evaluations, 0 = last only")
      ->default_val(1);
  cmd->add_option("--strategy", args.strategy, edgegnn::train::strategy_names())
      ->default_val("single");
  cmd->add_option("--placement", args.placement,
                  "pipeline: roles to ranks, e.g. sampler:0,features:1,layer1:1,layer2:2,loss:2");
  cmd->add_option("--micro-batches", o.micro_batches, "pipeline: micro-batches per mini-batch")
      ->default_val(4);
  cmd->add_option("--feature-cache", args.feature_cache,
                  "partition: remote feature rows kept while training, those sampled most often, "
                  "e.g. 64MiB (default 0, or sized to --memory-budget)");
  cmd->add_option("--feature-dtype", args.feature_dtype,
                  "float32 | float16 | int8: features held and sent compressed, widened per batch "
                  "(default float32; partition: float16)");
  cmd->add_option("--devices", args.devices,
                  "devices; with no host settings, emulated as local workers on loopback")
      ->default_val(1);
  cmd->add_option("--backend", args.backend, "gloo | mpi")->default_val("gloo");
  cmd->add_option("--bucket-size", args.bucket_size,
                  "data: gradients fused per allreduce, e.g. 25MiB (the first bucket is at most 1MiB)")
      ->default_val("25MiB");
  cmd->add_option("--memory-budget", args.memory_budget,
                  "per-device budget, e.g. 1GiB: a plan that does not fit is refused, and a "
                  "device whose peak RSS crosses it stops");
  cmd->add_flag("--force", args.force, "train even where the memory plan does not fit the budget");
  cmd->add_option_function<int64_t>(
      "--eval-chunk", [&args](const int64_t& n) { args.eval_chunk = n; },
      "nodes per evaluation chunk (default 8192, or sized to --memory-budget)");
  cmd->add_option("--eval-order", args.eval_order,
                  "evaluation's first layer: project-first (faster) or aggregate-first (holds no "
                  "table of every node's messages); default project-first, or sized to "
                  "--memory-budget");
  cmd->add_option_function<int>(
      "--sampler-queue", [&args](const int& n) { args.sampler_queue = n; },
      "mini-batches made ahead on a thread of their own, 0 for none (default 2; partition: 1, "
      "sampled and fetched over a second channel; or sized to --memory-budget)");
  cmd->add_option("--enforce-memory", args.enforce_memory,
                  "cgroup: also run each local worker in a memory cgroup at the budget")
      ->check(CLI::IsMember({"cgroup"}));
  cmd->add_option("--emulate", args.emulate,
                  "run each local worker as a board (pi4-1g, zero2w, custom:768MiB/100mbit, ...; "
                  "one, or one per device): its RAM and shaped link; needs root");
  cmd->add_option("--comm-timeout", args.comm_timeout_seconds,
                  "seconds a device waits for a peer before failing")
      ->default_val(60);
  cmd->add_option("--rank", args.rank, "this host's rank (multi-host; or RANK)");
  cmd->add_option("--world-size", args.world_size, "hosts in the run (or WORLD_SIZE)");
  cmd->add_option("--master-addr", args.master_addr, "rank 0's address (or MASTER_ADDR)");
  cmd->add_option("--master-port", args.master_port, "rank 0's port (or MASTER_PORT)");
  cmd->add_option("--checkpoint", o.checkpoint_dir, "save a checkpoint here after every epoch");
  cmd->add_flag("--resume", o.resume, "continue from --checkpoint");
  cmd->add_option("--metrics-out", o.metrics_out, "write the run's metrics JSON here");
  cmd->add_flag("--quiet", args.quiet, "no progress output");
}

}  // namespace

int main(int argc, char** argv) {
  // OpenMP threads that spin between torch's parallel regions take the cores
  // that the sampler thread and OpenBLAS's threads need: on 2 cores they made
  // a Cora GCN run 2.8x slower and a SAGE batch 1.4x. libgomp reads its wait
  // policy once, before main, so the commands that compute start again with
  // it set (one more process start, 0.6 s); a policy the user set wins.
  if (argc > 1 && (std::strcmp(argv[1], "train") == 0 || std::strcmp(argv[1], "eval") == 0) &&
      std::getenv("OMP_WAIT_POLICY") == nullptr) {
    // The binary's own path, not /proc/self/exe: the process stays "edgegnn" in ps.
    char self[4096];
    const ssize_t length = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (length > 0) {
      self[length] = '\0';
      ::setenv("OMP_WAIT_POLICY", "passive", 1);
      ::execv(self, argv);  // returns only when it failed: run as is
    }
  }
  // glibc hands freed heap back at once and maps large blocks afresh, so each
  // batch faulted its tensors' pages in again (synthetic-reddit: 2.0 M page
  // faults an epoch, a third of a SAGE batch's time). Blocks up to 32 MiB
  // (glibc's ceiling) come from the heap, and up to 256 MiB freed at its top
  // stays for the next batch; the trainer trims between phases.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  CLI::App app{"edgegnn: train graph neural networks on clusters of small devices"};
  app.require_subcommand(1);
  std::function<void()> run;

  InfoArgs info;
  auto* info_cmd = app.add_subcommand("info", "Print a dataset's counts, degrees, split and bytes");
  add_dataset_flags(info_cmd, info.data);
  info_cmd->add_flag("--json", info.json, "print one JSON object");
  info_cmd->callback([&] { run = [&] { run_info(info); }; });

  GenerateArgs generate;
  auto* generate_cmd =
      app.add_subcommand("generate", "Generate a synthetic graph in edgegnn's binary format");
  generate_cmd->add_option("--preset", generate.preset, "reddit | reddit-mini | products | tiny")
      ->required();
  generate_cmd
      ->add_option("--scale", generate.scale,
                   "generate this share of the preset's nodes, edges and split, at its mean degree")
      ->default_val(1);
  generate_cmd->add_option("--out", generate.out, "output directory")->required();
  generate_cmd->add_option("--seed", generate.seed, "random seed")->default_val(0);
  generate_cmd->add_option("--threads", generate.threads, "threads (0 = the cores available)")
      ->default_val(0);
  generate_cmd->callback([&] { run = [&] { run_generate(generate); }; });

  CalibrateArgs calibrate;
  auto* calibrate_cmd = app.add_subcommand(
      "calibrate", "Measure this machine's GEMM, aggregation and sampling rates (a board profile)");
  calibrate_cmd->add_option("--out", calibrate.out, "write the profile to this JSON file");
  calibrate_cmd->add_option("--threads", calibrate.threads, "threads (0 = the cores available)")
      ->default_val(0);
  calibrate_cmd->add_option("--seconds", calibrate.seconds, "seconds of timed rounds per probe")
      ->default_val(2);
  calibrate_cmd->add_option("--peer", calibrate.peer,
                            "also probe the link to HOST, where 'edgegnn calibrate' runs too");
  calibrate_cmd->add_flag("--listen", calibrate.listen,
                          "with --peer: this side hosts the link probe (the other one joins)");
  calibrate_cmd->add_option("--master-port", calibrate.master_port,
                            "with --peer: the link probe's port, the same on both sides")
      ->default_val(calibrate.master_port);
  calibrate_cmd->callback([&] { run = [&] { run_calibrate(calibrate); }; });

  PartitionArgs partition;
  auto* partition_cmd = app.add_subcommand(
      "partition", "Partition a dataset into parts for partition-parallel training (METIS)");
  add_dataset_flags(partition_cmd, partition.data);
  partition_cmd->get_option("--seed")->description(
      "seed for METIS, the random split and generated data");
  partition_cmd->add_option("--parts", partition.num_parts, "number of parts")->required();
  partition_cmd
      ->add_option("--method", partition.method,
                   "metis | random | fennel (streaming, O(nodes) memory)")
      ->default_val("metis");
  partition_cmd->add_option("--out", partition.out, "output directory")->required();
  partition_cmd->add_flag("--json", partition.json, "print partition.json and timings");
  partition_cmd->callback([&] { run = [&] { run_partition(partition); }; });

  TrainArgs train;
  train.command_line.assign(argv, argv + argc);
  int exit_code = 0;
  auto* train_cmd = app.add_subcommand("train", "Train a GNN (defaults: PyG's reddit.py)");
  add_train_flags(train_cmd, train);
  // Model defaults apply once parsing is done, where a bad --model is an Error.
  train_cmd->callback([&] {
    run = [&] {
      apply_model_defaults(train_cmd, train);
      exit_code = run_train(train);
    };
  });

  LaunchArgs launch;
  auto* launch_cmd = app.add_subcommand(
      "launch", "Run 'train' on the hosts of a hostfile over ssh, one worker per slot");
  auto* hosts_flag = launch_cmd->add_option(
      "--hosts", launch.hosts, "hostfile: '[user@]host[:port] [slots]' a line, rank 0 on the first");
  auto* emulate_flag = launch_cmd->add_option(
      "--emulate", launch.emulate,
      "instead of --hosts: an emulated rack of --devices boards (as train --emulate), reached by "
      "ssh; needs root");
  hosts_flag->excludes(emulate_flag);
  launch_cmd->add_option("--devices", launch.devices, "boards of the emulated rack")
      ->needs(emulate_flag);
  launch_cmd->add_option("--ssh", launch.ssh, "the ssh client and its options")
      ->default_val(launch.ssh);
  launch_cmd->add_option("--remote-edgegnn", launch.remote_edgegnn,
                         "edgegnn on the hosts (with --emulate: this binary)")
      ->default_val(launch.remote_edgegnn);
  launch_cmd->add_flag("--stage", launch.stage,
                       "copy the train command's --root to the hosts first with rsync (a "
                       "partition: part k to rank k's host only), skipping what is there");
  launch_cmd->add_option("--stage-dir", launch.stage_dir,
                         "where --stage puts the data on each host (relative: to the home)")
      ->default_val(launch.stage_dir);
  launch_cmd->add_option("--master-port", launch.master_port,
                         "rank 0's port on the first host (0: one free there, asked over ssh); "
                         "behind a firewall, give one it opens")
      ->default_val(launch.master_port);
  launch_cmd->add_flag("--quiet", launch.quiet, "no launcher output (workers still report)");
  launch_cmd->add_option("command", launch.command, "after --: train and its flags")->required();
  launch_cmd->callback([&] { run = [&] { exit_code = run_launch(launch); }; });

  PlanArgs plan;
  auto* plan_cmd = app.add_subcommand(
      "plan",
      "Estimate each device's peak memory and each epoch's time per strategy, before a run");
  add_train_flags(plan_cmd, plan.train);
  plan_cmd->add_option("--partition", plan.partition,
                       "plan --strategy partition on the parts written here by 'edgegnn partition'");
  plan_cmd->add_option("--profile", plan.profile,
                       "time each epoch with these device rates (one file for all devices, or one "
                       "per device, comma-separated), written by 'edgegnn calibrate --out'");
  plan_cmd->add_flag("--local", plan.local,
                     "the devices run on this machine, as 'train' without --hosts runs them, and "
                     "share its cores");
  plan_cmd->add_flag("--json", plan.json, "print the plan as JSON");
  plan_cmd->callback([&] {
    plan.all_strategies = plan_cmd->count("--strategy") == 0;
    run = [&] {
      apply_model_defaults(plan_cmd, plan.train);
      run_plan(plan);
    };
  });

  // For `launch`, over ssh: a port free on this host, for rank 0's store.
  auto* free_port_cmd = app.add_subcommand("free-port", "Print a TCP port free on this host");
  free_port_cmd->group("");
  free_port_cmd->callback(
      [&] { run = [] { fmt::print("{}\n", edgegnn::runtime::find_free_port("0.0.0.0")); }; });

  EvalArgs eval;
  auto* eval_cmd = app.add_subcommand("eval", "Evaluate a checkpoint on a dataset");
  add_dataset_flags(eval_cmd, eval.data);
  eval_cmd->add_option("--checkpoint", eval.checkpoint, "checkpoint directory")->required();
  eval_cmd->add_option("--feature-dtype", eval.feature_dtype,
                       "float32 | float16 | int8: features held compressed, widened per chunk")
      ->default_val("float32");
  eval_cmd->add_option("--eval-chunk", eval.eval_chunk, "nodes per evaluation chunk")
      ->default_val(8192);
  eval_cmd->add_option("--eval-order", eval.eval_order,
                       "first layer: project-first (faster) or aggregate-first (less memory)")
      ->default_val("project-first");
  eval_cmd->callback([&] { run = [&] { run_eval(eval); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    fmt::print(stderr, "edgegnn: error: {} (see edgegnn --help)\n", e.what());
    return 2;
  }
  try {
    run();
    return exit_code;
  } catch (const edgegnn::Error& e) {
    fmt::print(stderr, "edgegnn: error: {}\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "edgegnn: error: out of memory\n");
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "edgegnn: internal error: {}\n", e.what());
    return 1;
  }
}
