// Strategy: where a training step runs. Every strategy realises the same data
// flow (sample -> gather -> model -> loss -> gradients -> optimizer) and cuts
// it across devices in its own place (docs/architecture.md). The base class
// holds what they share: the per-epoch random streams, evaluation through the
// one layer-wise evaluator, the accounting of bytes and the device reports.
// A strategy adds only its wiring: its epoch (usually the one mini-batch loop
// of step.h over its own BatchSource) and where its evaluation rows live.
// The Trainer around it owns the epoch loop, best-epoch bookkeeping,
// checkpoints and metrics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "comm/communicator.h"
#include "graph/graph.h"
#include "runtime/progress.h"
#include "train/evaluation.h"
#include "train/train_options.h"
#include "train/training_state.h"

namespace edgegnn::train {

struct PartView;      // part_view.h
struct Placement;     // placement.h
struct PlanContext;   // plan_context.h
struct RankPlan;      // memory_plan.h

// What a strategy is made from on this rank (its registry entry's `make`).
struct StrategyInputs {
  // The dataset as this rank holds it: whole, its part, or its roles' arrays.
  const graph::Graph& graph;
  TrainingState& state;
  const TrainOptions& options;
  comm::Communicator* comm = nullptr;     // null on one device
  const PartView* part = nullptr;        // entries that read a partition
  const Placement* placement = nullptr;  // entries that place roles
};

struct EpochStats {
  double loss = 0;       // mean over the epoch's seeds, on every rank
  double train_acc = 0;  // on the epoch's sampled batches, as reddit.py reports it
  int64_t num_steps = 0;
  double sample_seconds = 0;     // producing batches (overlaps compute when prefetched)
  double wait_seconds = 0;       // waiting for the next batch
  double gather_seconds = 0;
  double compute_seconds = 0;    // forward + backward
  // Over steps, the slowest rank's forward + backward: what a synchronous
  // epoch takes when communication is free (compute_seconds on one device).
  double slowest_compute_seconds = 0;
  double sync_seconds = 0;       // after backward, waiting for gradients from other devices
  double optimizer_seconds = 0;
  // Communication: the batch source's seconds in transfers (partition:
  // sampling exchanges and feature fetches), and of this thread's time what
  // waited on communication (gradient sync, and waits for a batch up to
  // transfer_seconds) against what the loader hid behind compute.
  double transfer_seconds = 0;
  double exposed_comm_seconds = 0;
  double hidden_comm_seconds = 0;
};

struct DeviceReport {
  int rank = 0;
  std::string role;
  int64_t peak_rss_bytes = 0;
  int64_t bytes_sent = 0;
  int64_t bytes_received = 0;
  std::optional<int64_t> memory_budget_bytes;
  // Sum of |w| over the model's parameters after training, so a run can show
  // that data-parallel devices ended with identical weights.
  double parameter_checksum = 0;
  // Pipeline stages, over all training epochs: seconds working and seconds
  // waiting for messages.
  double busy_seconds = 0;
  double idle_seconds = 0;
  int64_t training_bytes_sent = 0;  // sent in training epochs (not evaluation)
  // CPU seconds of all its threads in training epochs: devices sharing cores
  // (emulated boards) are bound by their sum over the cores, not by one's.
  double training_cpu_seconds = 0;
};

class Strategy {
 public:
  // Borrows all; `comm` is null on one device.
  Strategy(TrainingState& state, const TrainOptions& options, comm::Communicator* comm)
      : state_(state), options_(options), comm_(comm) {}
  virtual ~Strategy() = default;

  virtual std::string name() const = 0;
  // One epoch (1-based) of training; reports each step to `progress`. Dropout
  // draws from a stream keyed on (seed, epoch, rank), so a resumed run draws
  // what an uninterrupted one does.
  EpochStats train_epoch(int64_t epoch, runtime::Progress& progress);
  // This rank's last-layer outputs of layer-wise evaluation (evaluate_layerwise).
  torch::Tensor evaluation_outputs();
  // Accuracy over every rank's nodes; a collective.
  Accuracy evaluate();
  // Every rank's report, on every rank; a collective.
  std::vector<DeviceReport> device_reports() const;

 protected:
  virtual EpochStats run_epoch(int64_t epoch, runtime::Progress& progress) = 0;
  // Where evaluation's rows live: this rank's rows of the first layer's
  // input, how rows move, and the graph whose rows its outputs are.
  virtual nn::FeatureMatrix eval_features() const = 0;
  virtual EvalRows& eval_rows() = 0;
  virtual const graph::Graph& eval_graph() const = 0;
  virtual std::string role() const = 0;
  // Fields only this strategy fills.
  virtual void add_to_report(DeviceReport&) const {}
  // What an error in training or evaluation adds, to name this rank's part.
  virtual std::string error_context() const { return {}; }
  // Sums over ranks; the values themselves on one device.
  std::vector<int64_t> sum_over_ranks(std::vector<int64_t> values) const {
    return comm_ ? comm_->sum_over_ranks(std::move(values)) : values;
  }
  int rank() const { return comm_ ? comm_->rank() : 0; }

  TrainingState& state_;
  const TrainOptions& options_;
  comm::Communicator* const comm_;

 private:
  // Runs `body`; an Error gains error_context().
  template <typename Body>
  auto in_context(Body&& body);

  int64_t training_bytes_sent_ = 0;
  double training_cpu_seconds_ = 0;
};

}  // namespace edgegnn::train
