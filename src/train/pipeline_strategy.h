// PipelineStrategy: model parallelism, the seed team's final set-up (the Gloo
// RPC pipeline, and the Ray actors that never got backward working). The
// sampler and each layer run on their own devices (see placement.h), so no
// device holds the structure, the features and the model's activations at once.
//
// Every rank runs the same loop over its roles, driven by messages in a
// Mailbox: the sampler sends each layer its block (as a LayerGraph) and the
// loss its seeds' labels; layer k sends its output forward to layer k+1 (or
// the loss) and, in backward, the gradient of its input back to layer k-1. A
// layer keeps a micro-batch's autograd state until that micro-batch's gradient
// comes back, then frees it. A layer's input in micro-batch m is the rows the
// layer below sent in micro-batches 0..m; the gradient of the rows of
// micro-batch m is complete once micro-batches M-1..m have gone backward.
//
// Schedule, as GPipe: the sampler samples a mini-batch as single does and cuts
// it into --micro-batches M micro-batches (micro_batches.h: seed slices, each
// layer's rows computed once); all M go forward back to back, while stage k
// works on micro-batch i stage k-1 works on i+1; then all M go backward, last
// first; the gradients add up over the micro-batches (each loss is scaled by
// the whole batch size), and each layer's rank steps its optimizer. So
// training equals `single` on the same mini-batches, up to float summation
// order (dropout draws differ: every rank has its own stream).
//
// Each rank builds the whole (small) model and optimizer but trains only its
// layers; after every epoch each layer's rank broadcasts that layer's weights
// and Adam state, so that every rank, rank 0 included, holds the trained model
// for checkpoints and reports.
//
// Evaluation is the one layer-wise evaluator (StreamRows): for each layer,
// node chunks stream from the sampler (full neighbourhoods) through the
// layer's rank to the next layer's rank, which gathers the whole layer's
// output (or the next layer's messages) before its own turn.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "comm/communicator.h"
#include "comm/mailbox.h"
#include "graph/graph.h"
#include "nn/layer_graph.h"
#include "sample/batch_loader.h"
#include "sample/neighbor_sampler.h"
#include "train/graph_tensors.h"
#include "train/micro_batches.h"
#include "train/placement.h"
#include "train/step.h"
#include "train/strategy.h"

namespace edgegnn::train {

// The parts of the graph a rank's roles need: the sampler the structure, the
// features role the feature matrix (counts, labels and masks always).
graph::GraphParts graph_parts_for(const Placement& placement, int rank);

// The rank layer `layer`'s output goes to: the next layer's, or the loss's.
int pipeline_next_rank(const Placement& placement, int layer);

// A pipeline's evaluation rows: every rank walks every node's chunks in
// lock-step; the sampler sends each chunk's graph to the layer's rank, which
// sends the chunk's output on to the next layer's (or the loss's) rank.
class StreamRows : public EvalRows {
 public:
  // Borrows all.
  StreamRows(const graph::Graph& graph, nn::Normalization normalization,
             const Placement& placement, comm::Mailbox& mailbox, int rank)
      : graph_(graph), normalization_(normalization), placement_(placement), mailbox_(mailbox),
        rank_(rank) {}
  int64_t num_rows(int) const override { return graph_.num_nodes; }
  bool computes(int layer) const override { return placement_.layers[layer] == rank_; }
  nn::LayerGraph chunk(int layer, int64_t begin, int64_t end) override;
  torch::Tensor hand_over(int layer, torch::Tensor rows) override;

 private:
  const graph::Graph& graph_;
  const nn::Normalization normalization_;
  const Placement& placement_;
  comm::Mailbox& mailbox_;
  const int rank_;
};

class PipelineStrategy : public Strategy {
 public:
  // Borrows everything; all must outlive the strategy. `graph` holds the
  // parts graph_parts_for() names for this rank.
  PipelineStrategy(const graph::Graph& graph, TrainingState& state, const TrainOptions& options,
                   comm::Communicator& comm, Placement placement);

  std::string name() const override { return "pipeline"; }
  static std::unique_ptr<Strategy> make(const StrategyInputs& in);
  static std::vector<RankPlan> estimate(const PlanContext& c, std::string& note);

 protected:
  EpochStats run_epoch(int64_t epoch, runtime::Progress& progress) override;
  nn::FeatureMatrix eval_features() const override { return tensors_.features; }
  EvalRows& eval_rows() override { return eval_rows_; }
  const graph::Graph& eval_graph() const override { return graph_; }
  std::string role() const override { return placement_.roles_of(rank()); }
  void add_to_report(DeviceReport& report) const override;
  std::string error_context() const override { return "pipeline: " + placement_.describe(); }

 private:
  // What a layer keeps of a micro-batch between its forward and backward.
  struct InFlight {
    nn::LayerGraph graph;  // the autograd graph borrows its index tensors
    torch::Tensor input;   // the rows received in this micro-batch; require grad
    torch::Tensor output;
  };

  EpochStats run_stages(int64_t epoch, runtime::Progress& progress);
  // Micro-batch m forward on this rank's roles; at m = 0 the sampler takes
  // the next mini-batch from `loader` and cuts it.
  void forward(int64_t epoch, int64_t step, int64_t micro_batch, sample::BatchLoader* loader,
               LossTotals& totals);
  void backward(int64_t micro_batch);
  // Every layer's weights and Adam state from its rank to all ranks.
  void share_trained_layers();
  int next_rank(int layer) const { return pipeline_next_rank(placement_, layer); }
  bool runs_layer(int layer) const { return placement_.layers[layer] == rank(); }

  const graph::Graph& graph_;
  const Placement placement_;
  comm::Mailbox mailbox_;
  GraphTensors tensors_;
  std::vector<int32_t> train_nodes_;
  std::unique_ptr<sample::NeighborSampler> sampler_;  // the sampler's rank only
  std::vector<MicroBatch> micro_batches_;  // the sampler's, of the current mini-batch
  std::map<std::pair<int64_t, int>, InFlight> in_flight_;  // by (micro-batch, layer)
  std::vector<torch::Tensor> loss_gradients_;              // per micro-batch, on the loss's rank
  int64_t global_size_ = 0;  // seeds of the current mini-batch (sampler)
  double busy_seconds_ = 0;
  double idle_seconds_ = 0;
  StreamRows eval_rows_;
};

}  // namespace edgegnn::train
