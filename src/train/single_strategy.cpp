#include "train/single_strategy.h"

#include "core/clock.h"
#include "train/plan_context.h"
#include "train/step.h"

namespace edgegnn::train {
namespace {

torch::Tensor int64_tensor(std::span<const int32_t> values) {
  return torch::tensor(std::vector<int64_t>(values.begin(), values.end()), torch::kInt64);
}

// Sampled mini-batches of the whole graph, from a loader's background thread.
class SampledBatches : public BatchSource {
 public:
  SampledBatches(const sample::NeighborSampler& sampler, std::span<const int32_t> seeds,
                 const sample::LoaderOptions& options, const graph::Graph& g,
                 const GraphTensors& tensors, nn::Normalization normalization)
      : loader_(sampler, seeds, options), graph_(g), tensors_(tensors),
        normalization_(normalization) {}

  int64_t num_steps() const override { return loader_.num_batches(); }
  double sample_seconds() const override { return loader_.sample_seconds(); }

  std::optional<StepBatch> next() override {
    std::optional<sample::Batch> batch = loader_.next();
    if (!batch) return std::nullopt;
    const auto start = Clock::now();
    StepBatch step;
    step.graphs = batch_layer_graphs(*batch, normalization_, graph_);
    step.input = tensors_.features;
    step.labels = tensors_.labels_of(int64_tensor(batch->seed_ids()));
    step.global_size = std::max(batch->global_size, static_cast<int64_t>(batch->seed_ids().size()));
    step.gather_seconds = seconds_since(start);
    return step;
  }

 private:
  sample::BatchLoader loader_;
  const graph::Graph& graph_;
  const GraphTensors& tensors_;
  nn::Normalization normalization_;
};

// The whole graph as one step, the loss over the training nodes.
class FullBatch : public BatchSource {
 public:
  FullBatch(const std::vector<nn::LayerGraph>& graphs, const GraphTensors& tensors,
            std::span<const int32_t> train_nodes)
      : graphs_(graphs), tensors_(tensors), train_nodes_(train_nodes) {}

  int64_t num_steps() const override { return 1; }
  double sample_seconds() const override { return 0; }

  std::optional<StepBatch> next() override {
    if (done_) return std::nullopt;
    done_ = true;
    const auto start = Clock::now();
    StepBatch step;
    step.graphs = graphs_;
    step.input = tensors_.features;
    step.loss_rows = int64_tensor(train_nodes_);
    step.labels = tensors_.labels_of(step.loss_rows);
    step.global_size = step.loss_rows.size(0);
    step.gather_seconds = seconds_since(start);
    return step;
  }

 private:
  const std::vector<nn::LayerGraph>& graphs_;
  const GraphTensors& tensors_;
  std::span<const int32_t> train_nodes_;
  bool done_ = false;
};

}  // namespace

RankPlan replica_plan(const PlanContext& c, int rank, const BatchShape& shape, int devices,
                      int64_t comm) {
  RankPlan p;
  p.rank = rank;
  p.roles = devices == 1 ? "all" : "replica";
  MemoryParts& m = p.memory;
  m.baseline = kProcessBaseline + (devices > 1 ? kBackendBaseline : 0);
  m.structure = c.structure_bytes(c.graph.num_nodes, c.graph.num_edges);
  m.features = c.feature_bytes(c.graph.num_nodes);
  m.labels = c.label_bytes(c.graph.num_nodes);
  const MemoryLevers& levers = c.options.levers;
  set_peak_phase(m,
                 {batches_in_flight(levers) * batch_bytes(shape),
                  training_bytes(shape, c.dims, 0, c.options.model.num_layers, true), comm},
                 {0, evaluation_bytes(c.dims, c.graph.num_nodes, c.degree, c.edge_bytes, levers),
                  comm});
  m.model = c.model_memory();
  const BatchShape& work = devices > 1 ? c.device_shape : shape;
  p.step = layer_work(work, c.dims, c.options.model.kind, 0, c.options.model.num_layers);
  if (!c.options.full_batch)
    for (double e : work.edges) p.step.sampled_edges += e;
  return p;
}

std::unique_ptr<Strategy> SingleStrategy::make(const StrategyInputs& in) {
  return std::make_unique<SingleStrategy>(in.graph, in.state, in.options);
}

std::vector<RankPlan> SingleStrategy::estimate(const PlanContext& c, std::string&) {
  return {replica_plan(c, 0, c.shape, 1, 0)};
}

SingleStrategy::SingleStrategy(const graph::Graph& graph, TrainingState& state,
                               const TrainOptions& options, comm::Communicator* comm)
    : Strategy(state, options, comm),
      graph_(graph),
      tensors_(graph),
      train_nodes_(sample::mask_nodes(graph.train_mask.span())),
      eval_rows_(graph, state.model->normalization()) {
  check(!train_nodes_.empty(), "{}: no training nodes", graph.name);
  if (options.full_batch) {
    full_graphs_ = full_layer_graphs(graph, options.model.num_layers, state.model->normalization());
    // Bag-of-words features (Cora: 1.3 % nonzero) are dropped and multiplied
    // as their nonzeros; past a tenth nonzero, the dense GEMM is as quick.
    const nn::FeatureMatrix& x = tensors_.features;
    if (state.model->conv(0).reads_nonzeros() && x.defined() && !x.compressed() &&
        x.values().scalar_type() == torch::kFloat32)
      tensors_.features = x.with_nonzeros(0.1);
  } else
    sampler_ = std::make_unique<sample::NeighborSampler>(
        graph, sample::SamplerOptions{options.fanouts, options.seed, options.threads});
}

EpochStats SingleStrategy::run_epoch(int64_t epoch, runtime::Progress& progress) {
  std::unique_ptr<BatchSource> source;
  if (options_.full_batch)
    source = std::make_unique<FullBatch>(full_graphs_, tensors_, train_nodes_);
  else
    source = std::make_unique<SampledBatches>(*sampler_, train_nodes_, loader_options(epoch), graph_,
                                              tensors_, state_.model->normalization());
  progress.start_epoch(epoch, options_.epochs, source->num_steps());
  return run_minibatch_epoch(*source, state_, epoch, progress, [this] { before_step(); }, comm_);
}

sample::LoaderOptions SingleStrategy::loader_options(int64_t epoch) const {
  sample::LoaderOptions loader{options_.batch_size, epoch, options_.seed};
  loader.queue_depth = options_.levers.sampler_queue_depth;
  return loader;
}

}  // namespace edgegnn::train
