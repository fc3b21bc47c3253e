// Dropout with a counter-based generator: element i of a call is kept when a
// hash of (the call's key, i) clears p, so the mask is the same whatever the
// thread count and costs one multiply-xorshift per four elements, in parallel.
// torch's dropout drew every element from one serial generator: 60 % of a
// Cora GCN epoch.
//
// Each call takes one 64-bit key from torch's default CPU generator, so
// torch::manual_seed (and a checkpoint's generator state) still fix the run.
// Keep probabilities are quantised to 1/65536.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "nn/sparse_rows.h"

namespace edgegnn::nn {

// relu(h) with dropout p, scaled by 1 / (1 - p), as one autograd function.
// Backward needs only the output (an element passes gradient when it is > 0:
// kept and positive), so no mask is stored. p = 0: relu alone.
torch::Tensor relu_dropout(const torch::Tensor& h, double p);

// Dropout of the input features, which need no gradient, written into `out`
// (x itself for in place, a tensor of x's shape, or undefined for a new one)
// and returned. x: contiguous float32. p = 0: x.
torch::Tensor dropout_features(const torch::Tensor& x, double p, torch::Tensor out = {});

// Dropout of a matrix given as its nonzeros: each keeps or drops as the same
// element of the dense matrix would (element r * columns + c), in one call.
SparseRows dropout_nonzeros(const SparseRows& x, double p);

// A dropout mask of `sizes`, float32: 1 / (1 - p) where kept, else 0; for
// dropout that needs a gradient through other ops (ELU's, attention's).
torch::Tensor dropout_mask(at::IntArrayRef sizes, double p);

// Whether element `index` of the call with `key` is kept at keep threshold
// `drop_below` (p * 65536): the generator both functions use, for tests.
bool dropout_keeps(uint64_t key, int64_t index, uint32_t drop_below);

}  // namespace edgegnn::nn
