// PlanContext: what every strategy's memory estimate is made of — the run's
// graph, options, request and batch shape, and the byte counts of the arrays
// and phases the strategies share (memory_plan.h says how a plan is read).
// Each strategy's own estimate sits beside it (`estimate` in its registry
// entry, strategy_registry.h), so a strategy and its estimate change together.
//
// Torch-free: it counts bytes, it allocates no tensors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "train/memory_plan.h"

namespace edgegnn::train {

inline constexpr int64_t kMiB = int64_t{1} << 20;
inline constexpr int64_t kFloat = 4;
// Measured on this code (x86_64, Debian's libtorch 1.13): VmHWM of `edgegnn
// train` on synthetic-tiny, whose data is negligible, and the extra of a
// distributed worker (Gloo's or OpenMPI's threads and buffers).
inline constexpr int64_t kProcessBaseline = 168 * kMiB;
inline constexpr int64_t kBackendBaseline = 5 * kMiB;
// Autograd keeps more than the tensors counted per layer (views, transient
// copies in backward, the allocator's slack): the ratio of measured to counted
// training working sets on synthetic-reddit-mini and synthetic-reddit. Where
// the loader samples on its own thread, freed blocks also linger in that
// thread's malloc arena; a pipeline's layer ranks sample nothing.
inline constexpr double kActivationFactor = 1.5;
inline constexpr double kActivationFactorWithoutSampler = 1.0;

// Input and output widths per layer, and each layer's attention heads (GAT;
// empty for models without attention).
struct Dims {
  std::vector<int64_t> in, out, heads;
  int64_t heads_of(int l) const { return heads.empty() ? 0 : heads[l]; }
};
Dims layer_dims(const nn::ModelOptions& m);

// ceil(count) elements of `width` bytes.
int64_t bytes(double count, int64_t width = 1);
// Batches a loader holds: its queue, the one being sampled, the one in use.
int batches_in_flight(const MemoryLevers& levers);
// A batch's ids and CSR in memory: per layer from `first_layer`, dst and src
// ids, rowptr, col.
int64_t batch_bytes(const BatchShape& s, int first_layer = 0);
BatchShape scaled(const BatchShape& s, double factor);
// Training's working set of layers [first, last): what autograd keeps per layer
// (inputs gathered or aggregated, the linear outputs and their sum, ReLU and
// dropout for hidden layers), the gradient of a local input in backward, and
// each layer's CSR as tensors; for attention, the sources' messages and
// scores, and alpha and its dropout mask per edge and head. `global_input`:
// layer 0 reads the features in place and gathers only its dst rows (GAT:
// gathers its sources).
int64_t training_bytes(const BatchShape& s, const Dims& d, int first, int last, bool global_input,
                       double factor = kActivationFactor);
// The compute of one training step on layers [first, last) of a batch of shape
// `s`, as the layers do it (nn/sage_conv.h, nn/gcn_conv.h, nn/gat_conv.h): GEMMs forward and
// backward, with no input gradient for layer 0, whose input is the features;
// aggregated rows read forward and scattered back in backward.
StepWork layer_work(const BatchShape& s, const Dims& d, nn::ModelKind kind, int first, int last);
// A chunk's temporaries in layer-wise evaluation: its aggregated input
// (`aggregated` wide), the two linear terms and their sum (`out` wide), and its
// CSR's columns (`edge_bytes` each), with the allocator's slack.
int64_t chunk_bytes(int64_t chunk, int64_t aggregated, int64_t out, double degree,
                    int64_t edge_bytes);
// Layer-wise evaluation over all `rows` nodes on one device, as the evaluator
// does it (evaluation.h): a narrowing or attention layer's input is all rows'
// messages (the first layer's only when it projects first, or attends), else its input table, the
// first layer's being the features held; its output is the next narrowing layer's messages and root
// terms, or its rows; a chunk's temporaries beside.
int64_t evaluation_bytes(const Dims& d, int64_t rows, double degree, int64_t edge_bytes,
                         const MemoryLevers& levers);

// What a rank holds beside its arrays in training or in evaluation. The
// trainer returns freed heap between the two, so its peak is one phase's.
struct Phase {
  int64_t batches = 0, activations = 0, comm = 0;
  int64_t total() const { return batches + activations + comm; }
};
void set_peak_phase(MemoryParts& m, const Phase& training, const Phase& evaluation);

struct PlanContext {
  // `halo_estimate`: a part's halo under a random cut, when no partition is given.
  PlanContext(const PlanGraph& g, const TrainOptions& o, const PlanRequest& r, const BatchShape& s,
              const BatchShape& device_shape, int64_t halo_estimate);

  // Bytes of the arrays a rank may hold.
  int64_t structure_bytes(int64_t nodes, int64_t edges) const;
  int64_t row_bytes() const;  // a feature row as held and sent (--feature-dtype)
  int64_t feature_bytes(int64_t nodes) const { return nodes * row_bytes(); }
  int64_t label_bytes(int64_t nodes) const;
  // Weights, gradients and Adam's two moments; every rank holds the whole model.
  int64_t model_memory() const { return 4 * model_bytes; }
  // Ring allreduce: each device sends 2 (N-1)/N of the gradients per step.
  int64_t allreduce_bytes_per_epoch(int devices) const;

  const PlanGraph& graph;
  const TrainOptions& options;
  const PlanRequest& request;
  const BatchShape& shape;  // of a whole batch of --batch-size seeds
  // Of a batch of batch size / devices seeds: a replica's or a part's step. It
  // has more than shape / devices nodes, as fewer seeds share fewer
  // neighbours; the time model counts them (memory estimates scale `shape`,
  // as their factors were measured so).
  const BatchShape& device_shape;
  const Dims dims;
  const int64_t halo_estimate;
  double degree = 0;       // mean in-degree
  int64_t edge_bytes = 4;  // a chunk's CSR column, with GCN's edge weight
  int64_t steps = 0;       // per epoch
  int64_t model_bytes = 0;
};

}  // namespace edgegnn::train
