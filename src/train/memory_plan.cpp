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
#include "train/placement.h"

namespace edgegnn::train {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int64_t kFloat = 4;

// Measured on this code (x86_64, Debian's libtorch 1.13): VmHWM of `edgegnn
// train` on synthetic-tiny, whose data is negligible, and the extra of a
// distributed worker (Gloo's or OpenMPI's threads and buffers).
constexpr int64_t kProcessBaseline = 168 * kMiB;
constexpr int64_t kBackendBaseline = 5 * kMiB;
// Autograd keeps more than the tensors counted per layer (views, transient
// copies in backward, the allocator's slack): the ratio of measured to counted
// training working sets on synthetic-reddit-mini and synthetic-reddit. Where
// the loader samples on its own thread, freed blocks also linger in that
// thread's malloc arena; a pipeline's layer ranks sample nothing.
constexpr double kActivationFactor = 1.5;
constexpr double kActivationFactorWithoutSampler = 1.0;
// A chunk's temporaries are freed and allocated again for every chunk, and the
// allocator keeps about one more chunk's worth: measured on synthetic-reddit,
// data parallel on 4, evaluation in chunks of 8192 against 1024 nodes.
constexpr int64_t kChunkSlack = 2;
// The smallest evaluation chunk the planner sizes: below it, per-chunk
// overheads grow and the memory saved is a few MiB.
constexpr int64_t kSmallestEvalChunk = 512;

// Batches a loader holds: its queue, the one being sampled, the one in use.
int batches_in_flight(const MemoryLevers& levers) { return levers.sampler_queue_depth + 2; }

struct Dims {
  std::vector<int64_t> in, out;  // per layer
};

Dims layer_dims(const nn::ModelOptions& m) {
  Dims d;
  for (int l = 0; l < m.num_layers; ++l) {
    d.in.push_back(l == 0 ? m.in_features : m.hidden);
    d.out.push_back(l + 1 == m.num_layers ? m.num_classes : m.hidden);
  }
  return d;
}

int64_t num_parameters(const nn::ModelOptions& m) {
  const Dims d = layer_dims(m);
  int64_t n = 0;
  for (size_t l = 0; l < d.in.size(); ++l)
    n += (m.kind == "sage" ? 2 : 1) * d.in[l] * d.out[l] + d.out[l];
  return n;
}

int64_t bytes(double count, int64_t width = 1) {
  return static_cast<int64_t>(std::ceil(count)) * width;
}

// A batch's ids and CSR in memory: per layer dst and src ids, rowptr, col.
int64_t batch_bytes(const BatchShape& s, int first_layer = 0) {
  int64_t b = 0;
  for (size_t l = first_layer; l < s.dst.size(); ++l)
    b += bytes(s.dst[l] + s.src[l], 4) + bytes(s.dst[l] + 1, 8) + bytes(s.edges[l], 4);
  return b;
}

BatchShape scaled(const BatchShape& s, double factor) {
  BatchShape r = s;
  for (auto* v : {&r.dst, &r.src, &r.edges})
    for (double& x : *v) x *= factor;
  return r;
}

// Training's working set of layers [first, last): what autograd keeps per layer
// (inputs gathered or aggregated, the linear outputs and their sum, ReLU and
// dropout for hidden layers), the gradient of a local input in backward, and
// each layer's CSR as tensors. `global_input`: layer 0 reads the features in
// place and gathers only its dst rows.
int64_t training_bytes(const BatchShape& s, const Dims& d, int first, int last,
                       bool global_input, double factor = kActivationFactor) {
  double floats = 0;
  for (int l = first; l < last; ++l) {
    const bool hidden = l + 1 < static_cast<int>(d.in.size());
    const double dst = s.dst[l], src = s.src[l];
    floats += dst * d.in[l] * (l == 0 && global_input ? 2 : 1);  // aggregated (+ gathered root)
    floats += dst * d.out[l] * (hidden ? 6 : 4);  // lin_l, lin_r, sum (+ relu, dropout mask, out)
    if (l > 0 || !global_input) floats += src * d.in[l];  // input's gradient
    floats += bytes(s.edges[l] * 3 + dst * 2) / double(kFloat);  // CSR, its transpose
  }
  return static_cast<int64_t>(floats * kFloat * factor);
}

// A chunk's temporaries in layer-wise evaluation: its aggregated input
// (`aggregated` wide), the two linear terms and their sum (`out` wide), and its
// CSR's columns (`edge_bytes` each), with the allocator's slack.
int64_t chunk_bytes(int64_t chunk, int64_t aggregated, int64_t out, double degree,
                    int64_t edge_bytes) {
  return kChunkSlack *
         (chunk * (aggregated + 3 * out) * kFloat + bytes(chunk * degree, edge_bytes));
}

// Layer-wise evaluation over all `rows` nodes, as layerwise_inference does it:
// a narrowing layer's input is all rows' messages (the first layer's only when
// it projects first), else its input table, the first layer's being the
// features held; its output is the next narrowing layer's messages and root
// terms, or its rows; a chunk's temporaries beside.
int64_t evaluation_bytes(const Dims& d, int64_t rows, double degree, int64_t edge_bytes,
                         const MemoryLevers& levers) {
  int64_t peak = 0;
  const int num_layers = static_cast<int>(d.in.size());
  auto narrows = [&](int l) { return 2 * d.out[l] < d.in[l]; };
  for (int l = 0; l < num_layers; ++l) {
    const bool messages = d.out[l] < d.in[l] && (l > 0 || levers.eval_project_first);
    const int64_t input = messages ? rows * d.out[l] : l > 0 ? rows * d.in[l] : 0;
    const int64_t output =
        l + 1 < num_layers && narrows(l + 1) ? 2 * rows * d.out[l + 1] : rows * d.out[l];
    const int64_t chunk = std::min(levers.eval_chunk_nodes, rows);
    peak = std::max(peak, (input + output) * kFloat +
                              chunk_bytes(chunk, messages ? d.out[l] : d.in[l], d.out[l], degree,
                                          edge_bytes));
  }
  return peak;
}

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

class Planner {
 public:
  // `halo_estimate`: a part's halo under a random cut, when no partition is given.
  Planner(const PlanGraph& g, const TrainOptions& o, const PlanRequest& r, const BatchShape& s,
          int64_t halo_estimate)
      : g_(g), o_(o), r_(r), shape_(s), dims_(layer_dims(o.model)), halo_estimate_(halo_estimate) {
    num_train_ = g.num_train;
    degree_ = g.num_nodes > 0 ? double(g.num_edges) / g.num_nodes : 0;
    // A chunk's CSR columns, and GCN's edge weights.
    edge_bytes_ = o.model.kind == "gcn" ? 8 : 4;
    steps_ = o.full_batch ? 1 : (num_train_ + o.batch_size - 1) / o.batch_size;
    model_bytes_ = num_parameters(o.model) * kFloat;
  }

  StrategyPlan plan(const std::string& strategy) const {
    StrategyPlan p;
    p.strategy = strategy;
    p.levers = o_.levers;
    p.devices = strategy == "single" ? 1 : r_.devices;
    if (strategy == "single") p.ranks = {single()};
    if (strategy == "data") p.ranks = data(p.note);
    if (strategy == "pipeline") p.ranks = pipeline(p.note);
    if (strategy == "partition") p.ranks = partition(p.note);
    return p;
  }

 private:
  int64_t structure_bytes(int64_t nodes, int64_t edges) const {
    return (nodes + 1) * 8 + edges * 4;
  }
  // A feature row as held and sent (--feature-dtype).
  int64_t row_bytes() const {
    return g_.num_features * graph::feature_dtype_bytes(o_.feature_dtype);
  }
  int64_t feature_bytes(int64_t nodes) const { return nodes * row_bytes(); }
  int64_t label_bytes() const { return g_.num_nodes * (4 + 3); }
  // Weights, gradients and Adam's two moments; every rank holds the whole model.
  int64_t model_memory() const { return 4 * model_bytes_; }

  // `comm`: buffers held through both phases.
  RankPlan whole_graph_rank(int rank, const BatchShape& s, int devices, int64_t comm) const {
    RankPlan p;
    p.rank = rank;
    p.roles = devices == 1 ? "all" : "replica";
    MemoryParts& m = p.memory;
    m.baseline = kProcessBaseline + (devices > 1 ? kBackendBaseline : 0);
    m.structure = structure_bytes(g_.num_nodes, g_.num_edges);
    m.features = feature_bytes(g_.num_nodes);
    m.labels = label_bytes();
    set_peak_phase(m,
                   {batches_in_flight(o_.levers) * batch_bytes(s),
                    training_bytes(s, dims_, 0, o_.model.num_layers, true), comm},
                   {0, evaluation_bytes(dims_, g_.num_nodes, degree_, edge_bytes_, o_.levers), comm});
    m.model = model_memory();
    return p;
  }

  // What a rank holds beside its arrays in training or in evaluation. The
  // trainer returns freed heap between the two, so its peak is one phase's.
  struct Phase {
    int64_t batches = 0, activations = 0, comm = 0;
    int64_t total() const { return batches + activations + comm; }
  };

  static void set_peak_phase(MemoryParts& m, const Phase& training, const Phase& evaluation) {
    m.eval_sets_peak = evaluation.total() > training.total();
    const Phase& p = m.eval_sets_peak ? evaluation : training;
    m.batches = p.batches;
    m.activations = p.activations;
    m.comm = p.comm;
  }

  RankPlan single() const { return whole_graph_rank(0, shape_, 1, 0); }

  // Ring allreduce: each device sends 2 (N-1)/N of the gradients per step.
  int64_t allreduce_bytes_per_epoch(int devices) const {
    return devices > 1 ? steps_ * 2 * (devices - 1) * model_bytes_ / devices : 0;
  }

  std::vector<RankPlan> data(std::string& note) const {
    const int n = r_.devices;
    if (n < 2) {
      note = "needs 2 or more devices";
      return {};
    }
    std::vector<RankPlan> ranks;
    const BatchShape s = scaled(shape_, 1.0 / n);
    for (int k = 0; k < n; ++k) {
      // The buckets' flat gradients, sent and summed.
      RankPlan p = whole_graph_rank(k, s, n, 2 * model_bytes_);
      p.bytes_sent_per_epoch = allreduce_bytes_per_epoch(n);
      ranks.push_back(p);
    }
    note = "every device holds the whole graph; batch slices of " +
           std::to_string(o_.batch_size / n);
    return ranks;
  }

  std::vector<RankPlan> pipeline(std::string& note) const {
    const int layers = o_.model.num_layers, n = r_.devices;
    Placement placement;
    try {
      placement = parse_placement(r_.placement, layers, n);
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
      m.labels = label_bytes();
      m.model = model_memory();
      const int64_t eval_chunk = std::min(o_.levers.eval_chunk_nodes, g_.num_nodes);
      Phase training, evaluation;
      if (placement.sampler == k) {
        m.structure = structure_bytes(g_.num_nodes, g_.num_edges);
        training.batches = batches_in_flight(o_.levers) * batch_bytes(shape_);
        // Every layer's block and the seeds' labels go out; in evaluation, a
        // chunk's block, built and packed.
        training.comm = batch_bytes(shape_);
        evaluation.comm = 2 * bytes(eval_chunk * degree_, edge_bytes_);
        p.bytes_sent_per_epoch = steps_ * (batch_bytes(shape_) + bytes(shape_.dst.back(), 8));
      }
      if (placement.features == k) m.features = feature_bytes(g_.num_nodes);
      for (int l = 0; l < layers; ++l) {
        if (!placement.runs_layer(k, l)) continue;
        training.activations +=
            training_bytes(shape_, dims_, l, l + 1, true,
                           placement.sampler == k ? kActivationFactor
                                                  : kActivationFactorWithoutSampler);
        // Input rows received (and their gradients sent back); output rows
        // sent (and their gradients received).
        const int64_t in_rows = l > 0 ? bytes(shape_.src[l], dims_.in[l] * kFloat) : 0;
        const int64_t out_rows =
            l + 1 < layers ? bytes(shape_.src[l + 1], dims_.in[l + 1] * kFloat) : 0;
        training.comm += 2 * (in_rows + out_rows);
        training.batches += batch_bytes(shape_, l) - batch_bytes(shape_, l + 1);
        if (l > 0 && placement.layers[l - 1] != k) p.bytes_sent_per_epoch += steps_ * in_rows;
        if (l + 1 < layers && placement.layers[l + 1] != k) p.bytes_sent_per_epoch += steps_ * out_rows;
        // Layer 1 aggregates the features and streams chunks of its output; a
        // later layer gathers all nodes' input rows as they arrive, then its
        // output (or messages). A chunk's temporaries are as wide as its input:
        // aggregated, or the rows received.
        const int64_t chunk_temps =
            chunk_bytes(eval_chunk, dims_.in[l], dims_.out[l], degree_, edge_bytes_);
        evaluation.activations = std::max(
            evaluation.activations,
            chunk_temps + (l == 0 ? 0 : g_.num_nodes * (dims_.in[l] + dims_.out[l]) * kFloat));
        // After each epoch the owner broadcasts the layer's weights and Adam moments.
        p.bytes_sent_per_epoch += 3 * model_bytes_ / layers;
      }
      set_peak_phase(m, training, evaluation);
    }
    note = "each rank holds only its roles' arrays";
    return ranks;
  }

  std::vector<RankPlan> partition(std::string& note) const {
    const int n = r_.devices;
    if (n < 2) {
      note = "needs 2 or more devices";
      return {};
    }
    if (o_.model.kind != "sage") {
      note = "GraphSAGE only";
      return {};
    }
    const auto& summary = r_.partition;
    if (summary && static_cast<int>(summary->parts.size()) != n) {
      note = fmt::format("the partition has {} parts, not {}", summary->parts.size(), n);
      return {};
    }
    std::vector<RankPlan> ranks;
    for (int k = 0; k < n; ++k) {
      partition::PartStats part;
      if (summary) {
        part = summary->parts[k];
      } else {
        part.num_nodes = (g_.num_nodes + n - 1) / n;
        part.num_edges = (g_.num_edges + n - 1) / n;
        part.num_remote_edges = part.num_edges * (n - 1) / n;
        part.num_train = (num_train_ + n - 1) / n;
        part.num_halo = halo_estimate_;
      }
      const double share = num_train_ > 0 ? double(part.num_train) / num_train_ : 1.0 / n;
      const double remote = part.num_edges > 0 ? double(part.num_remote_edges) / part.num_edges : 0;
      const BatchShape s = scaled(shape_, share);
      RankPlan p;
      p.rank = k;
      p.roles = "part " + std::to_string(k);
      MemoryParts& m = p.memory;
      m.baseline = kProcessBaseline + kBackendBaseline;
      // Own CSR and global ids, and the book's two arrays over all nodes.
      m.structure = structure_bytes(part.num_nodes, part.num_edges) + part.num_nodes * 4 +
                    g_.num_nodes * 8;
      const int64_t row = std::max<int64_t>(1, row_bytes());
      const int64_t cache = std::min(o_.feature_cache_bytes, part.num_halo * row);
      m.features = feature_bytes(part.num_nodes) + cache / row * row;
      m.labels = part.num_nodes * (4 + 3);

      // Layer 1 reads gathered input rows: the remote ones arrive in a buffer
      // and are copied in beside the own ones; rows asked by others go out.
      // An input node L hops from a seed is remote unless every hop stayed in
      // the part: a 2-layer batch fetches far more than the edge cut.
      const double fetched =
          s.src[0] * (1 - std::pow(1 - remote, static_cast<double>(s.src.size())));
      const int64_t training_comm = bytes(s.src[0], row) + 2 * bytes(fetched, row) + 2 * model_bytes_;
      const int64_t own = part.num_nodes, with_halo = own + part.num_halo;
      // Evaluation per layer: the layer's input held, the table of own and
      // halo rows (or messages), and beside it first the own rows it was
      // filled from, then the output and a chunk's temporaries, whose
      // columns are remapped into a vector and copied into a tensor.
      const double part_degree = own > 0 ? double(part.num_edges) / own : 0;
      const int64_t chunk = std::min(o_.levers.eval_chunk_nodes, own);
      int64_t eval = 0;
      for (int l = 0; l < o_.model.num_layers; ++l) {
        const int64_t width = dims_.out[l] < dims_.in[l] ? dims_.out[l] : dims_.in[l];
        const int64_t held = l > 0 ? own * dims_.in[l] : 0;
        const int64_t filling = own * width * kFloat;
        const int64_t computing =
            own * dims_.out[l] * kFloat + chunk_bytes(chunk, width, dims_.out[l], part_degree, 8);
        eval = std::max(eval, (held + with_halo * width) * kFloat + std::max(filling, computing));
      }
      // A batch is sampled in the step, none ahead.
      set_peak_phase(m,
                     {batch_bytes(s), training_bytes(s, dims_, 0, o_.model.num_layers, false),
                      training_comm},
                     {0, eval, 2 * model_bytes_});
      m.model = model_memory();
      // Rows it serves others, as many as it fetches when parts are alike;
      // node ids of the distributed sampler's two exchanges per hop.
      double ids = 0;
      for (size_t l = 0; l < s.src.size(); ++l) ids += 2 * (s.dst[l] * remote + s.edges[l] * remote);
      p.bytes_sent_per_epoch = steps_ * (bytes(fetched, row) + bytes(ids, 4)) +
                               allreduce_bytes_per_epoch(n);
      ranks.push_back(p);
    }
    note = summary ? "parts from the partition's summary"
                   : "parts estimated as even shares with a random cut's halo (give --partition "
                     "DIR for the real parts)";
    if (o_.feature_cache_bytes == 0) note += "; bytes without a feature cache";
    return ranks;
  }

  const PlanGraph& g_;
  const TrainOptions& o_;
  const PlanRequest& r_;
  const BatchShape& shape_;
  const Dims dims_;
  const int64_t halo_estimate_;
  double degree_ = 0;
  int64_t edge_bytes_ = 4;
  int64_t num_train_ = 0;
  int64_t steps_ = 0;
  int64_t model_bytes_ = 0;
};

std::string mib(int64_t b) { return fmt::format("{:.0f}", b / double(kMiB)); }

// The levers to try for `strategy`, most preferred first: the options' own,
// then, for those not fixed and that change the strategy's memory, smaller.
// Without a budget, only the options' own.
std::vector<MemoryLevers> lever_candidates(const MemoryLevers& start, const PlanRequest& request,
                                           const std::string& strategy) {
  if (!request.budget_bytes) return {start};
  const FixedLevers& fixed = request.fixed;
  // Only layerwise_inference has a choice of order; partition samples in the step.
  const bool whole_graph = strategy == "single" || strategy == "data";
  std::vector<bool> orders{start.eval_project_first};
  if (!fixed.eval_project_first && whole_graph && start.eval_project_first) orders.push_back(false);
  std::vector<int64_t> chunks{start.eval_chunk_nodes};
  if (!fixed.eval_chunk_nodes)
    for (int64_t c = start.eval_chunk_nodes / 2; c >= kSmallestEvalChunk; c /= 2) chunks.push_back(c);
  std::vector<int> queues{start.sampler_queue_depth};
  if (!fixed.sampler_queue_depth && strategy != "partition")
    for (int q = start.sampler_queue_depth - 1; q >= 1; --q) queues.push_back(q);
  std::vector<MemoryLevers> out;
  for (bool order : orders)
    for (int64_t chunk : chunks)
      for (int queue : queues) out.push_back({chunk, order, queue});
  return out;
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
  if (options.full_batch) {
    const size_t layers = options.model.num_layers;
    const double n = graph.num_nodes, e = graph.num_edges;
    plan.shape = {std::vector<double>(layers, n), std::vector<double>(layers, n),
                  std::vector<double>(layers, e + n), true};
  } else if (graph.graph) {
    plan.shape = sample_batch_shape(*graph.graph, options, options.batch_size);
  } else {
    plan.shape = estimate_batch_shape(graph.num_nodes, graph.num_edges, options.fanouts,
                                      options.batch_size);
  }
  std::vector<std::string> names = request.strategies;
  if (names.empty()) names = {"single", "data", "pipeline", "partition"};
  const bool estimate_halo = !request.partition && graph.graph &&
                             std::find(names.begin(), names.end(), "partition") != names.end();
  const int64_t halo = estimate_halo ? random_halo(*graph.graph, request.devices) : 0;
  for (const std::string& name : names) {
    check(name == "single" || name == "data" || name == "pipeline" || name == "partition",
          "--strategy: '{}' is not available (single, data, pipeline, partition)", name);
    std::optional<StrategyPlan> chosen;
    for (const MemoryLevers& levers : lever_candidates(options.levers, request, name)) {
      TrainOptions o = options;
      o.levers = levers;
      StrategyPlan p = Planner(graph, o, request, plan.shape, halo).plan(name);
      if (!p.runnable() || plan.fits_with_headroom(p)) {
        chosen = p;
        break;
      }
      if (!chosen || p.largest_peak() < chosen->largest_peak()) chosen = p;
    }
    chosen->levers_sized = chosen->levers != options.levers;
    plan.strategies.push_back(*chosen);
  }
  const StrategyPlan* best = nullptr;
  for (const StrategyPlan& s : plan.strategies) {
    if (!plan.fits(s)) continue;
    if (!best || s.largest_bytes_sent() < best->largest_bytes_sent() ||
        (s.largest_bytes_sent() == best->largest_bytes_sent() &&
         s.largest_peak() < best->largest_peak()))
      best = &s;
  }
  if (best) plan.recommended = best->strategy;
  return plan;
}

std::string format_plan(const Plan& plan) {
  std::string out = fmt::format(
      "batch shape ({}): {} input nodes, {} edges per mini-batch\n",
      plan.shape.sampled ? "sampled" : "estimated",
      static_cast<int64_t>(plan.shape.src.empty() ? 0 : plan.shape.src.front()),
      static_cast<int64_t>(std::accumulate(plan.shape.edges.begin(), plan.shape.edges.end(), 0.0)));
  out += fmt::format("{:<10} {:>4}  {:<22} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7} {:>6} {:>6} {:>7} {:>9}\n",
                     "strategy", "rank", "roles", "base", "struct", "feat", "labels", "batch",
                     "activ", "model", "comm", "total", "MB/epoch");
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
          "{:<10} {:>4}  {:<22} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}{} {:>6} {:>6} {:>7} {:>9.1f}\n",
          r.rank == 0 ? s.strategy : "", r.rank, r.roles, mib(m.baseline), mib(m.structure),
          mib(m.features), mib(m.labels), mib(m.batches), mib(m.activations),
          m.eval_sets_peak ? "e" : " ", mib(m.model), mib(m.comm), mib(m.total()),
          r.bytes_sent_per_epoch / 1e6);
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
    out += fmt::format("{:<10}       with {}{}\n", "", lever_flags(s),
                       s.levers_sized ? (fits ? " (sized to fit)" : " (the smallest tried)") : "");
  }
  out += "batch, activ, comm: of the phase that sets the peak, training or evaluation (e)\n";
  if (plan.budget_bytes)
    out += plan.recommended.empty()
               ? "recommended: none fits; lower --batch-size or --hidden, or add devices\n"
               : fmt::format("recommended: {} (fits, fewest bytes sent per device)\n",
                             plan.recommended);
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
  j["strategies"] = nlohmann::json::array();
  for (const StrategyPlan& s : plan.strategies) {
    nlohmann::json js{{"strategy", s.strategy},
                      {"devices", s.devices},
                      {"runnable", s.runnable()},
                      {"fits", plan.fits(s)},
                      {"note", s.note},
                      {"largest_peak_bytes", s.largest_peak()},
                      {"largest_bytes_sent_per_epoch", s.largest_bytes_sent()},
                      {"levers",
                       {{"eval_chunk_nodes", s.levers.eval_chunk_nodes},
                        {"eval_order", eval_order_name(s.levers.eval_project_first)},
                        {"sampler_queue_depth", s.levers.sampler_queue_depth},
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
                             {"bytes_sent_per_epoch", r.bytes_sent_per_epoch}});
    }
    j["strategies"].push_back(js);
  }
  return j;
}

std::string lever_flags(const StrategyPlan& s) {
  std::string flags = fmt::format("--eval-chunk {}", s.levers.eval_chunk_nodes);
  if (s.strategy == "single" || s.strategy == "data")
    flags += fmt::format(" --eval-order {}", eval_order_name(s.levers.eval_project_first));
  if (s.strategy != "partition") flags += fmt::format(" --sampler-queue {}", s.levers.sampler_queue_depth);
  return flags;
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
