#include "train/pipeline_strategy.h"

#include <bit>
#include <cmath>

#include "core/clock.h"
#include "core/error.h"
#include "nn/dropout.h"
#include "train/plan_context.h"

namespace edgegnn::train {
namespace {

// Message tags; a layer's tags add its 0-based index.
constexpr int kBlockTag = 1000;       // sampler -> layer l: its LayerGraph
constexpr int kLabelsTag = 2000;      // sampler -> loss: seed labels, batch size
constexpr int kActivationTag = 3000;  // layer l-1 -> layer l (l = L: -> loss)
constexpr int kGradientTag = 4000;    // layer l+1 (or loss) -> layer l: d output
constexpr int kEvalBlockTag = 5000;   // sampler -> layer l: a chunk's LayerGraph
constexpr int kEvalOutputTag = 6000;  // layer l -> next: a chunk's output rows

torch::Tensor scalar_tensor(int64_t value) { return torch::tensor({value}, torch::kInt64); }

comm::Message pack(const nn::LayerGraph& g) {
  return {g.adjacency.rowptr,
          g.adjacency.col,
          g.adjacency.weight,
          g.dst_rows,
          torch::tensor({g.num_dst, g.dst_begin}, torch::kInt64),
          g.src_rows};
}

nn::LayerGraph unpack(comm::Message m) {
  check(m.size() == 6, "pipeline: a layer graph message has {} tensors, expected 6", m.size());
  nn::LayerGraph g;
  g.adjacency = {m[0], m[1], m[2]};
  g.dst_rows = m[3];
  g.num_dst = m[4][0].item<int64_t>();
  g.dst_begin = m[4][1].item<int64_t>();
  g.src_rows = m[5];
  return g;
}

}  // namespace

graph::GraphParts graph_parts_for(const Placement& placement, int rank) {
  graph::GraphParts parts;
  parts.structure = placement.sampler == rank;
  parts.features = placement.features == rank;
  return parts;
}

int pipeline_next_rank(const Placement& placement, int layer) {
  return layer + 1 < placement.num_layers() ? placement.layers[layer + 1] : placement.loss;
}

nn::LayerGraph StreamRows::chunk(int layer, int64_t begin, int64_t end) {
  if (placement_.sampler == rank_)
    mailbox_.send(placement_.layers[layer], kEvalBlockTag + layer,
                  pack(nn::full_layer_graph(graph_, begin, end, normalization_)));
  return computes(layer) ? unpack(mailbox_.recv(placement_.sampler, kEvalBlockTag + layer))
                         : nn::LayerGraph();
}

torch::Tensor StreamRows::hand_over(int layer, torch::Tensor rows) {
  const int receiver = pipeline_next_rank(placement_, layer);
  if (computes(layer)) mailbox_.send(receiver, kEvalOutputTag + layer, {rows});
  torch::Tensor received;
  if (receiver == rank_) received = mailbox_.recv(placement_.layers[layer], kEvalOutputTag + layer).at(0);
  // One chunk in flight: a rank never holds a whole layer's sends.
  mailbox_.flush();
  return received;
}

std::unique_ptr<Strategy> PipelineStrategy::make(const StrategyInputs& in) {
  return std::make_unique<PipelineStrategy>(in.graph, in.state, in.options, *in.comm,
                                            *in.placement);
}

std::vector<RankPlan> PipelineStrategy::estimate(const PlanContext& c, std::string& note) {
  const TrainOptions& o = c.options;
  const Dims& dims = c.dims;
  const BatchShape& shape = c.shape;
  const int64_t num_nodes = c.graph.num_nodes;
  const int layers = o.model.num_layers, n = c.request.devices;
  Placement placement;
  try {
    placement = parse_placement(c.request.placement, layers, n);
  } catch (const Error& e) {
    note = e.what();
    return {};
  }
  std::vector<RankPlan> ranks(n);
  for (int k = 0; k < n; ++k) {
    RankPlan& p = ranks[k];
    p.rank = k;
    p.roles = placement.roles_of(k);
    MemoryParts& m = p.memory;
    m.baseline = kProcessBaseline + kBackendBaseline;
    m.labels = c.label_bytes(num_nodes);
    m.model = c.model_memory();
    const int64_t eval_chunk = std::min(o.levers.eval_chunk_nodes, num_nodes);
    Phase training, evaluation;
    if (placement.sampler == k) {
      m.structure = c.structure_bytes(num_nodes, c.graph.num_edges);
      training.batches = batches_in_flight(o.levers) * batch_bytes(shape);
      // Every layer's block and the seeds' labels go out; in evaluation, a
      // chunk's block, built and packed.
      training.comm = batch_bytes(shape);
      evaluation.comm = 2 * bytes(eval_chunk * c.degree, c.edge_bytes);
      p.step.sent_bytes = batch_bytes(shape) + bytes(shape.dst.back(), 8);
      for (double e : shape.edges) p.step.sampled_edges += e;
    }
    if (placement.features == k) m.features = c.feature_bytes(num_nodes);
    for (int l = 0; l < layers; ++l) {
      if (!placement.runs_layer(k, l)) continue;
      // Attention gathers the sources of each micro-batch's block on its own
      // (nn/layer_graph.h), most of the batch's at the first layer.
      BatchShape gathered = shape;
      if (l == 0 && dims.heads_of(0) > 0) {
        // Expected distinct sources of a micro-batch's edges, drawn as if at
        // random, at most all of them.
        const double m = o.micro_batches, src = shape.src[0];
        gathered.src[0] =
            m * std::min(src, shape.dst[0] / m + src * (1 - std::exp(-shape.edges[0] / (m * src))));
      }
      training.activations += training_bytes(
          gathered, dims, l, l + 1, true,
          placement.sampler == k ? kActivationFactor : kActivationFactorWithoutSampler);
      // A later layer's input in micro-batch m is the rows of micro-batches
      // 0..m, concatenated anew (m > 0), and autograd keeps each table:
      // (M (M + 1) / 2 - 1) / M input-sized copies in all.
      const double m = o.micro_batches;
      if (l > 0)
        training.activations +=
            bytes(shape.src[l] * (m * (m + 1) / 2 - 1) / m, dims.in[l] * kFloat);
      // Input rows received (and their gradients sent back); output rows
      // sent (and their gradients received).
      const int64_t in_rows = l > 0 ? bytes(shape.src[l], dims.in[l] * kFloat) : 0;
      const int64_t out_rows =
          l + 1 < layers ? bytes(shape.src[l + 1], dims.in[l + 1] * kFloat) : 0;
      training.comm += 2 * (in_rows + out_rows);
      training.batches += batch_bytes(shape, l) - batch_bytes(shape, l + 1);
      p.step += layer_work(gathered, dims, o.model.kind, l, l + 1);
      if (l > 0 && placement.layers[l - 1] != k) p.step.sent_bytes += in_rows;
      if (l + 1 < layers && placement.layers[l + 1] != k) p.step.sent_bytes += out_rows;
      // The first layer aggregates the features held (or their messages,
      // projecting first) and streams chunks of its output; a later layer
      // holds all nodes' input rows and its messages, or, narrowing to half
      // or less, its messages and root terms made as the rows arrived. A
      // chunk's temporaries are as wide as what it aggregates. Attention
      // always projects, and its messages carry two scores per head.
      const bool attends = dims.heads_of(l) > 0;
      const int64_t message_width = dims.out[l] + 2 * dims.heads_of(l);
      const bool projects =
          attends || (dims.out[l] < dims.in[l] && (l > 0 || o.levers.eval_project_first));
      const bool projected_input = l > 0 && (attends || 2 * dims.out[l] < dims.in[l]);
      const int64_t held = l == 0            ? (projects ? message_width : 0)
                           : projected_input ? (attends ? message_width : 2 * dims.out[l])
                                             : dims.in[l] + dims.out[l];
      const int64_t chunk_temps = chunk_bytes(eval_chunk, projects ? message_width : dims.in[l],
                                              dims.out[l], c.degree, c.edge_bytes);
      evaluation.activations =
          std::max(evaluation.activations, chunk_temps + num_nodes * held * kFloat);
      // After each epoch the owner broadcasts the layer's weights and Adam moments.
      p.bytes_sent_per_epoch += 3 * c.model_bytes / layers;
    }
    p.bytes_sent_per_epoch += static_cast<int64_t>(c.steps * p.step.sent_bytes);
    set_peak_phase(m, training, evaluation);
  }
  note = "each rank holds only its roles' arrays";
  return ranks;
}

PipelineStrategy::PipelineStrategy(const graph::Graph& graph, TrainingState& state,
                                   const TrainOptions& options, comm::Communicator& comm,
                                   Placement placement)
    : Strategy(state, options, &comm),
      graph_(graph),
      placement_(std::move(placement)),
      mailbox_(comm),
      tensors_(graph),
      train_nodes_(sample::mask_nodes(graph.train_mask.span())),
      eval_rows_(graph, state.model->normalization(), placement_, mailbox_, comm.rank()) {
  check(options.micro_batches >= 1, "--micro-batches: {} is not a positive count",
        options.micro_batches);
  check(placement_.num_ranks == comm.size() &&
            placement_.num_layers() == state.model->num_layers(),
        "pipeline: placement for {} ranks and {} layers, run has {} ranks and {} layers",
        placement_.num_ranks, placement_.num_layers(), comm.size(), state.model->num_layers());
  check(!train_nodes_.empty(), "{}: no training nodes", graph.name);
  const int rank = comm.rank();
  check(placement_.sampler != rank || graph.has_structure,
        "pipeline: rank {} samples but holds no graph structure", rank);
  check(placement_.features != rank || graph.has_features,
        "pipeline: rank {} holds the features role but no features", rank);
  if (placement_.sampler == rank)
    sampler_ = std::make_unique<sample::NeighborSampler>(
        graph, sample::SamplerOptions{options.fanouts, options.seed, options.threads});
}

EpochStats PipelineStrategy::run_epoch(int64_t epoch, runtime::Progress& progress) {
  const auto start = Clock::now();
  const double idle_before = mailbox_.wait_seconds();
  const int64_t num_batches =
      (static_cast<int64_t>(train_nodes_.size()) + options_.batch_size - 1) / options_.batch_size;
  const int num_micro = options_.micro_batches;
  std::unique_ptr<sample::BatchLoader> loader;
  if (sampler_) {
    sample::LoaderOptions batches{options_.batch_size, epoch, options_.seed};
    batches.queue_depth = options_.levers.sampler_queue_depth;
    loader = std::make_unique<sample::BatchLoader>(*sampler_, train_nodes_, batches);
  }
  progress.start_epoch(epoch, options_.epochs, num_batches);
  EpochStats stats;
  LossTotals totals;
  for (int64_t b = 0; b < num_batches; ++b) {
    state_.optimizer->zero_grad();
    for (int64_t m = 0; m < num_micro; ++m) forward(epoch, b + 1, m, loader.get(), totals);
    for (int64_t m = num_micro - 1; m >= 0; --m) backward(m);
    const auto step_start = Clock::now();
    state_.optimizer->step();  // skips the parameters of other ranks' layers (no gradient)
    stats.optimizer_seconds += seconds_since(step_start);
    mailbox_.flush();
    ++stats.num_steps;
    progress.step(stats.num_steps, "");
  }
  if (loader) stats.sample_seconds = loader->sample_seconds();
  share_trained_layers();

  // Only the loss's rank has counted; the sums tell every rank.
  std::vector<int64_t> shared{std::bit_cast<int64_t>(totals.loss_sum), totals.correct,
                              totals.count};
  comm_->broadcast(std::span<int64_t>(shared), placement_.loss);
  const int64_t count = shared[2];
  stats.loss = count > 0 ? std::bit_cast<double>(shared[0]) / count : 0;
  stats.train_acc = count > 0 ? static_cast<double>(shared[1]) / count : 0;
  const double idle = mailbox_.wait_seconds() - idle_before;
  stats.wait_seconds = idle;
  idle_seconds_ += idle;
  busy_seconds_ += seconds_since(start) - idle;
  return stats;
}

void PipelineStrategy::forward(int64_t epoch, int64_t step, int64_t micro_batch,
                               sample::BatchLoader* loader, LossTotals& totals) {
  const int num_layers = placement_.num_layers();
  if (loader) {
    if (micro_batch == 0) {
      std::optional<sample::Batch> batch = loader->next();
      check(batch.has_value(), "pipeline: the sampler ran out of mini-batches");
      micro_batches_ = split_micro_batches(*batch, options_.micro_batches);
      global_size_ = batch->global_size;
    }
    const MicroBatch& mb = micro_batches_[micro_batch];
    for (int l = 0; l < num_layers; ++l)
      mailbox_.send(placement_.layers[l], kBlockTag + l,
                    pack(nn::block_layer_graph(mb.blocks[l], /*global_input=*/l == 0,
                                               state_.model->normalization(), graph_,
                                               mb.dst_input_rows[l])));
    const auto& seeds = mb.blocks.back().dst_ids;
    torch::Tensor seed_tensor = torch::tensor(std::vector<int64_t>(seeds.begin(), seeds.end()),
                                              torch::kInt64);
    mailbox_.send(placement_.loss, kLabelsTag,
                  {tensors_.labels_of(seed_tensor), scalar_tensor(global_size_)});
  }
  for (int l = 0; l < num_layers; ++l) {
    if (!runs_layer(l)) continue;
    InFlight f;
    f.graph = unpack(mailbox_.recv(placement_.sampler, kBlockTag + l));
    nn::FeatureMatrix x;
    if (l == 0) {
      // As GnnModel::forward: input dropout over the feature matrix.
      x = tensors_.features;
      const double p = state_.model->options().input_dropout;
      if (p > 0) {
        torch::Tensor widened = x.widen();
        x = nn::dropout_features(widened, p, x.compressed() ? widened : torch::Tensor());
      }
    } else {
      f.input = mailbox_.recv(placement_.layers[l - 1], kActivationTag + l).at(0).requires_grad_();
      // The table: this micro-batch's rows after those of the earlier ones.
      std::vector<torch::Tensor> table;
      for (int64_t m = 0; m < micro_batch; ++m) table.push_back(in_flight_.at({m, l}).input);
      table.push_back(f.input);
      x = table.size() == 1 ? f.input : torch::cat(table);
    }
    f.output = state_.model->forward_layer(l, x, f.graph);
    mailbox_.send(next_rank(l), kActivationTag + l + 1, {f.output.detach()});
    in_flight_[{micro_batch, l}] = std::move(f);
  }
  if (placement_.loss == rank()) {
    torch::Tensor h =
        mailbox_.recv(placement_.layers.back(), kActivationTag + num_layers).at(0).requires_grad_();
    comm::Message labels = mailbox_.recv(placement_.sampler, kLabelsTag);
    const int64_t global_size = labels.at(1)[0].item<int64_t>();
    loss_backward(torch::log_softmax(h, -1), labels[0], global_size, epoch, step, totals);
    if (micro_batch == 0) loss_gradients_.clear();
    loss_gradients_.push_back(h.grad().defined() ? h.grad() : torch::zeros_like(h));
  }
}

void PipelineStrategy::backward(int64_t micro_batch) {
  const int num_layers = placement_.num_layers();
  if (placement_.loss == rank())
    mailbox_.send(placement_.layers.back(), kGradientTag + num_layers - 1,
                  {loss_gradients_.at(micro_batch)});
  for (int l = num_layers - 1; l >= 0; --l) {
    if (!runs_layer(l)) continue;
    auto it = in_flight_.find({micro_batch, l});
    check(it != in_flight_.end(), "pipeline: no forward state for micro-batch {} of layer {}",
          micro_batch, l + 1);
    torch::Tensor grad = mailbox_.recv(next_rank(l), kGradientTag + l).at(0);
    it->second.output.backward(grad);
    if (l > 0) {
      // Later micro-batches, already gone backward, read these rows too: the
      // gradient is complete now.
      const torch::Tensor& input = it->second.input;
      mailbox_.send(placement_.layers[l - 1], kGradientTag + l - 1,
                    {input.grad().defined() ? input.grad() : torch::zeros_like(input)});
    }
    in_flight_.erase(it);  // frees the micro-batch's activations
  }
}

void PipelineStrategy::share_trained_layers() {
  torch::NoGradGuard no_grad;
  auto& states = state_.optimizer->state();
  for (int l = 0; l < placement_.num_layers(); ++l) {
    const int owner = placement_.layers[l];
    for (torch::Tensor p : state_.model->conv(l).parameters()) {
      torch::Tensor data = p.data();
      comm_->broadcast(data, owner);
      const std::string key = c10::guts::to_string(p.unsafeGetTensorImpl());
      if (states.find(key) == states.end()) {
        auto fresh = std::make_unique<torch::optim::AdamParamState>();
        fresh->exp_avg(torch::zeros_like(p));
        fresh->exp_avg_sq(torch::zeros_like(p));
        states[key] = std::move(fresh);
      }
      auto& adam = static_cast<torch::optim::AdamParamState&>(*states[key]);
      torch::Tensor step = scalar_tensor(adam.step());
      comm_->broadcast(step, owner);
      adam.step(step[0].item<int64_t>());
      torch::Tensor exp_avg = adam.exp_avg(), exp_avg_sq = adam.exp_avg_sq();
      comm_->broadcast(exp_avg, owner);
      comm_->broadcast(exp_avg_sq, owner);
    }
  }
}

void PipelineStrategy::add_to_report(DeviceReport& report) const {
  report.busy_seconds = busy_seconds_;
  report.idle_seconds = idle_seconds_;
}

}  // namespace edgegnn::train
