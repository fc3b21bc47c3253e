// Evaluation as reddit.py does it: layer-wise inference over all nodes with
// all their neighbours (no sampling), one layer at a time, in node chunks, so
// that only one layer's rows are held at once.
//
// One evaluator serves every strategy. A strategy says only where a layer's
// rows live and how they move (EvalRows): all on one device (WholeGraphRows),
// a part's own rows and its halo from the other parts, or a stream from one
// pipeline stage to the next. How a layer computes is decided here alone:
//  - a layer that narrows (out < in) transforms every input row into its
//    message once and aggregates the narrower messages (Reddit's first layer:
//    256 floats per edge, not 602); the first layer does so only with
//    --eval-order project-first, else it aggregates its input a chunk at a
//    time and never holds a table of every node's messages; a layer whose
//    aggregation needs every source transformed (GAT) always projects;
//  - a later layer whose messages are at most half its input's width takes
//    them, and its root terms, straight from the previous layer's chunks, so
//    its wide input is never held for all rows.
//  - where a rank's table would be mostly other ranks' rows (a part's halo on
//    a power-law graph: products in 8 parts, 0.3 M own rows and up to 1.4 M
//    halo rows), sum and mean aggregate it a block of columns at a time
//    (EvalRows::table_columns), so the table is never held whole.
// Outputs agree with one full-graph forward pass to float rounding, whatever
// the chunk and the order.
#pragma once

#include <array>
#include <cstdint>

#include <torch/torch.h>

#include "graph/graph.h"
#include "nn/gnn_model.h"
#include "nn/layer_graph.h"
#include "train/train_options.h"

namespace edgegnn::train {

struct Accuracy {
  double train = 0, val = 0, test = 0;
};

// Where a layer's rows live on this rank and how they move between ranks.
// Every rank calls these in the same order: layer by layer, and chunk by chunk
// over num_rows(layer).
class EvalRows {
 public:
  virtual ~EvalRows() = default;
  // The output rows of layer `layer` the chunk loop walks: this rank's own;
  // on a pipeline, every node on every rank, walked in lock-step.
  virtual int64_t num_rows(int layer) const = 0;
  // Whether this rank computes layer `layer`: holds its input, gets its chunks.
  virtual bool computes(int layer) const = 0;
  // The table the layer's chunks read, made from this rank's rows of its input
  // (or of its messages): those rows, or those with the halo's after them.
  virtual nn::FeatureMatrix table(int layer, nn::FeatureMatrix own) { return own; }
  // How many of a `width`-column table's columns to hold at once: all, unless
  // the table's other rows far outnumber this rank's own. A layer that
  // aggregates by sum or mean (not attention) then fetches the table a block
  // of columns at a time, calling table() with those columns of its rows, and
  // aggregates each block before fetching the next.
  virtual int64_t table_columns(int layer, int64_t width) const { return width; }
  // The graph from output rows [begin, end) into the table's rows, whose own
  // rows are the table's rows [begin, end). Defined where computes(layer).
  virtual nn::LayerGraph chunk(int layer, int64_t begin, int64_t end) = 0;
  // A chunk of the layer's output (defined where computed), moved to the rank
  // that holds the next layer's input, or the outputs after the last layer;
  // returns the rows there, undefined elsewhere.
  virtual torch::Tensor hand_over(int layer, torch::Tensor rows) { return rows; }
};

// All rows on this device: chunks are whole neighbourhoods of `graph`'s nodes.
class WholeGraphRows : public EvalRows {
 public:
  // Borrows `graph`.
  WholeGraphRows(const graph::Graph& graph, nn::Normalization normalization)
      : graph_(graph), normalization_(normalization) {}
  int64_t num_rows(int) const override { return graph_.num_nodes; }
  bool computes(int) const override { return true; }
  nn::LayerGraph chunk(int layer, int64_t begin, int64_t end) override;

 private:
  const graph::Graph& graph_;
  nn::Normalization normalization_;
};

// The last layer's output rows (before log-softmax) that end on this rank:
// every node's on one device, a part's own nodes', every node's on a
// pipeline's loss rank, and undefined elsewhere. `features`: this rank's rows
// of the first layer's input (undefined where it holds none). Runs in eval
// mode and restores the model's mode.
torch::Tensor evaluate_layerwise(nn::GnnModel& model, const nn::FeatureMatrix& features,
                                 EvalRows& rows, const MemoryLevers& levers);

// Right predictions and sizes of the train, validation and test splits.
struct SplitCounts {
  std::array<int64_t, 3> hits{}, sizes{};
};

// The counts of the argmax of `outputs` over rows 0.. of `g` (labels and
// masks); nothing when `outputs` is undefined.
SplitCounts count_hits(const torch::Tensor& outputs, const graph::Graph& g);
// Each split's hits over its size (0 for an empty split).
Accuracy accuracy_of(const SplitCounts& counts);

}  // namespace edgegnn::train
