#include "train/plan_context.h"

#include <algorithm>
#include <cmath>

namespace edgegnn::train {
namespace {

// A chunk's temporaries are freed and allocated again for every chunk, and the
// allocator keeps about one more chunk's worth: measured on synthetic-reddit,
// data parallel on 4, evaluation in chunks of 8192 against 1024 nodes.
constexpr int64_t kChunkSlack = 2;

// Rows read or written by a layer's elementwise passes over its output, per
// training step: a hidden layer's sum, ReLU and dropout forward, and their
// gradients back (10), the output layer's sum, log-softmax and loss (6).
constexpr double kHiddenPasses = 10, kOutputPasses = 6;

int64_t num_parameters(const nn::ModelOptions& m) {
  const Dims d = layer_dims(m);
  int64_t n = 0;
  for (size_t l = 0; l < d.in.size(); ++l)
    n += (m.kind == nn::ModelKind::kSage ? 2 : 1) * d.in[l] * d.out[l] + d.out[l] +
         (d.heads_of(l) > 0 ? 2 * d.out[l] : 0);  // GAT's att_src and att_dst
  return n;
}

}  // namespace

Dims layer_dims(const nn::ModelOptions& m) {
  Dims d;
  for (int l = 0; l < m.num_layers; ++l) {
    const bool last = l + 1 == m.num_layers;
    d.in.push_back(l == 0 ? m.in_features : m.hidden_width());
    d.out.push_back(last ? m.num_classes : m.hidden_width());
    if (m.kind == nn::ModelKind::kGat) d.heads.push_back(last ? 1 : m.heads);
  }
  return d;
}

int64_t bytes(double count, int64_t width) {
  return static_cast<int64_t>(std::ceil(count)) * width;
}

int batches_in_flight(const MemoryLevers& levers) { return levers.sampler_queue_depth + 2; }

int64_t batch_bytes(const BatchShape& s, int first_layer) {
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

int64_t training_bytes(const BatchShape& s, const Dims& d, int first, int last, bool global_input,
                       double factor) {
  double floats = 0;
  for (int l = first; l < last; ++l) {
    const bool hidden = l + 1 < static_cast<int>(d.in.size());
    const double dst = s.dst[l], src = s.src[l], heads = d.heads_of(l);
    if (heads > 0) {
      if (l == 0 && global_input) floats += src * d.in[l];  // gathered sources
      // Messages with their scores and as heads, and their gradients; alpha,
      // its dropout mask and its gradient per edge; output, bias, ELU, dropout.
      floats += src * (d.out[l] * 6 + heads * 4) + s.edges[l] * heads * 3 + dst * d.out[l] * 5;
    } else {
      floats += dst * d.in[l] * 2;  // [mean | root], the one GEMM's input (nn/sage_conv.h)
      // The GEMM's output and its gradient (+ relu and dropout as one output,
      // no mask: nn/dropout.h; its gradient is the next layer's input's)
      floats += dst * d.out[l] * (hidden ? 3 : 2);
    }
    if (l > 0 || !global_input) floats += src * d.in[l];  // input's gradient
    floats += bytes(s.edges[l] * 3 + dst * 2) / double(kFloat);  // CSR, its transpose
  }
  return static_cast<int64_t>(floats * kFloat * factor);
}

StepWork layer_work(const BatchShape& s, const Dims& d, nn::ModelKind kind, int first, int last) {
  StepWork w;
  const int num_layers = static_cast<int>(d.in.size());
  for (int l = first; l < last; ++l) {
    const double in = d.in[l], out = d.out[l], edges = s.edges[l];
    // A GEMM's forward, its weight gradient, and its input gradient past layer 0.
    const double passes = l == 0 ? 2 : 3;
    double gemm_rows = s.dst[l], aggregated_width = in, aggregations = l == 0 ? 1 : 2;
    double linears = 2;  // SAGE: lin_l on the aggregate, lin_r on the root rows
    if (kind == nn::ModelKind::kGat) {
      // One GEMM over every source; attention reads the messages forward and
      // twice back (per dst row, then per source row), plus alpha per head.
      linears = 1;
      gemm_rows = s.src[l];
      aggregated_width = out + 3 * d.heads_of(l);
      aggregations = 3;
    } else if (kind == nn::ModelKind::kGcn) {
      linears = 1;
      // GCN transforms first where that costs fewer multiply-adds (gcn_conv.cpp);
      // then the aggregation's backward is needed at every layer.
      if (s.src[l] * in * out + edges * out < s.dst[l] * in * out + edges * in) {
        gemm_rows = s.src[l];
        aggregated_width = out;
        aggregations = 2;
      }
    }
    const bool hidden = l + 1 < num_layers;
    const double flops = 2 * linears * gemm_rows * in * out * passes;
    (hidden ? w.wide_flops : w.narrow_flops) += flops;
    w.aggregation_bytes += aggregations * edges * aggregated_width * kFloat;
    // Reads and writes of the output's elementwise passes, forward and back
    // (sum and bias; ReLU and dropout; or log-softmax and the loss), and
    // SAGE's root rows gathered from the features (later layers' are a view).
    w.elementwise_bytes += (hidden ? kHiddenPasses : kOutputPasses) * s.dst[l] * out * kFloat;
    if (kind == nn::ModelKind::kSage && l == 0) w.elementwise_bytes += 2 * s.dst[l] * in * kFloat;
  }
  return w;
}

int64_t chunk_bytes(int64_t chunk, int64_t aggregated, int64_t out, double degree,
                    int64_t edge_bytes) {
  return kChunkSlack *
         (chunk * (aggregated + 3 * out) * kFloat + bytes(chunk * degree, edge_bytes));
}

int64_t evaluation_bytes(const Dims& d, int64_t rows, double degree, int64_t edge_bytes,
                         const MemoryLevers& levers) {
  int64_t peak = 0;
  const int num_layers = static_cast<int>(d.in.size());
  auto narrows = [&](int l) { return d.heads_of(l) > 0 || 2 * d.out[l] < d.in[l]; };
  for (int l = 0; l < num_layers; ++l) {
    const bool messages =
        d.heads_of(l) > 0 || (d.out[l] < d.in[l] && (l > 0 || levers.eval_project_first));
    const int64_t message_width = d.out[l] + 2 * d.heads_of(l);  // GAT's scores beside
    const int64_t input = messages ? rows * message_width : l > 0 ? rows * d.in[l] : 0;
    // The next layer's messages, and its root terms unless it attends.
    const int64_t output = l + 1 < num_layers && narrows(l + 1)
                               ? d.heads_of(l + 1) > 0
                                     ? rows * (d.out[l + 1] + 2 * d.heads_of(l + 1))
                                     : 2 * rows * d.out[l + 1]
                               : rows * d.out[l];
    const int64_t chunk = std::min(levers.eval_chunk_nodes, rows);
    peak = std::max(
        peak, (input + output) * kFloat + chunk_bytes(chunk, messages ? message_width : d.in[l],
                                                      d.out[l], degree, edge_bytes));
  }
  return peak;
}

void set_peak_phase(MemoryParts& m, const Phase& training, const Phase& evaluation) {
  m.eval_sets_peak = evaluation.total() > training.total();
  const Phase& p = m.eval_sets_peak ? evaluation : training;
  m.batches = p.batches;
  m.activations = p.activations;
  m.comm = p.comm;
}

PlanContext::PlanContext(const PlanGraph& g, const TrainOptions& o, const PlanRequest& r,
                         const BatchShape& s, const BatchShape& device_s, int64_t halo)
    : graph(g),
      options(o),
      request(r),
      shape(s),
      device_shape(device_s),
      dims(layer_dims(o.model)),
      halo_estimate(halo) {
  degree = g.num_nodes > 0 ? double(g.num_edges) / g.num_nodes : 0;
  // A column, and GCN's weight or GAT's alpha and logit per head.
  edge_bytes = o.model.kind == nn::ModelKind::kGcn   ? 8
               : o.model.kind == nn::ModelKind::kGat ? 4 + 8 * o.model.heads
                                                     : 4;
  steps = o.full_batch ? 1 : (g.num_train + o.batch_size - 1) / o.batch_size;
  model_bytes = num_parameters(o.model) * kFloat;
}

int64_t PlanContext::structure_bytes(int64_t nodes, int64_t edges) const {
  return ::edgegnn::graph::Graph::structure_bytes(nodes, edges);
}

int64_t PlanContext::row_bytes() const {
  return graph.num_features * ::edgegnn::graph::feature_dtype_bytes(options.feature_dtype);
}

int64_t PlanContext::label_bytes(int64_t nodes) const {
  return ::edgegnn::graph::Graph::label_bytes(nodes);
}

int64_t PlanContext::allreduce_bytes_per_epoch(int devices) const {
  return devices > 1 ? steps * 2 * (devices - 1) * model_bytes / devices : 0;
}

}  // namespace edgegnn::train
