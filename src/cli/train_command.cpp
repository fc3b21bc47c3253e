#include <fstream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "graph/dataset.h"
#include "runtime/checkpoint.h"
#include "runtime/memory_meter.h"
#include "runtime/threads.h"
#include "train/single_strategy.h"
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

}  // namespace

void run_train(TrainArgs& args) {
  train::TrainOptions& o = args.options;
  check(args.strategy == "single",
        "--strategy: '{}' is not available in this version (available: single)", args.strategy);
  check(args.devices == 1, "--devices: {} devices need a distributed strategy, not yet available",
        args.devices);
  o.decay_first_layer_only = args.weight_decay_layers == "first";
  o.progress = !args.quiet;
  train::validate(o);
  o.threads = runtime::configure_threads(o.threads);
  // A bad checkpoint fails now, not after loading the data.
  if (o.resume) runtime::read_checkpoint_meta(o.checkpoint_dir);

  graph::Graph g = graph::load_dataset(o.dataset, o.root, {o.seed, o.threads});
  if (o.normalize_features) graph::row_normalize_features(g);
  o.model.in_features = g.num_features;
  o.model.num_classes = g.num_classes;
  if (o.progress)
    fmt::print(stderr, "{}: {} nodes, {} edges, {} features, {} classes; {} {}x{} on {} threads\n",
             g.name, g.num_nodes, g.num_edges(), g.num_features, g.num_classes, o.model.kind,
             o.model.num_layers, o.model.hidden, o.threads);

  train::TrainingState state = train::make_training_state(o);
  train::SingleStrategy strategy(g, state, o);
  train::Trainer trainer(strategy, state, o);
  train::RunRecord record = trainer.run();

  fmt::print("test accuracy {:.4f} (best validation {:.4f} at epoch {}), last epoch: val {:.4f} "
             "test {:.4f}\n",
             record.best_test_acc, record.best_val_acc, record.best_epoch, record.last.val,
             record.last.test);
  fmt::print("peak memory {:.1f} MiB, {:.1f} s in {} epochs\n",
             runtime::peak_rss_bytes() / 1048576.0, record.seconds_total, record.epochs.size());
  if (!o.metrics_out.empty())
    write_text_atomically(o.metrics_out,
                          train::metrics_json(record, o, strategy.name(), 1, "none").dump(2) + "\n");
}

}  // namespace edgegnn::cli
