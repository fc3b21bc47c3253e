// csr_aggregate: out[i] = sum over e in row i of weight[e] * x[col[e]], the
// neighbourhood aggregation of every layer, as a torch autograd function with
// edgegnn's own kernels (PyG's scatter-based aggregation spent 74% of its batch
// time in the backward scatter; this one needs no atomics in either direction).
//
// Forward is parallel over output rows. Backward is the same kernel over the
// transposed CSR (built in forward only when x requires grad), so it is also
// parallel over rows with no atomics. Weights are constants (no gradient).
//
// Shapes: x (num_src, F) float or double; out (num_dst, F).
// The adjacency borrows its index tensors; they must outlive the autograd graph.
//
// A compressed input (FeatureMatrix: the feature matrix as float16 or 8-bit
// codes) or a stacked one (several matrices' rows as one) is read where it
// lies and summed in float32, with no gradient.
#pragma once

#include <torch/torch.h>

#include "nn/csr_transpose.h"
#include "nn/feature_matrix.h"

namespace edgegnn::nn {

// A CSR from dst rows to src columns, as tensors.
struct CsrAdjacency {
  torch::Tensor rowptr;  // int64 [num_dst + 1], rowptr[0] == 0
  torch::Tensor col;     // int32 [rowptr[num_dst]], indices into x's rows
  torch::Tensor weight;  // x's dtype, one per edge; undefined = all ones
  int64_t num_dst() const { return rowptr.size(0) - 1; }
};

enum class Aggregation { kSum, kMean };

// Weighted sum of x's rows per CSR row, or their mean (unweighted: an
// adjacency with weights is refused; empty rows give zeros).
torch::Tensor csr_aggregate(const torch::Tensor& x, const CsrAdjacency& adjacency,
                            Aggregation aggregation = Aggregation::kSum);
// The same over a FeatureMatrix: an unstacked float one goes to the function
// above; a compressed or stacked one gives float32 (num_dst, F) without gradient, equal to the
// aggregation of its widened rows up to float32 rounding.
torch::Tensor csr_aggregate(const FeatureMatrix& x, const CsrAdjacency& adjacency,
                            Aggregation aggregation = Aggregation::kSum);

// Each dst row's aggregate beside that row's own input: (num_dst, 2F) float32,
// row i = [aggregate of row i | x's row root_rows[i] (or root_begin + i when
// root_rows is undefined), widened]. A layer that multiplies both by weights
// (SAGE) then does one GEMM over the pair instead of two and a sum, and reads
// no copy of the root rows. x: compressed, stacked, or float32; a float32 x
// that requires grad gets its gradient through both halves (mean aggregation only).
// Without gradient, `out` (contiguous float32, num_dst x 2F) takes the result
// when given.
torch::Tensor csr_aggregate_beside_rows(const FeatureMatrix& x, const CsrAdjacency& adjacency,
                                        Aggregation aggregation, const torch::Tensor& root_rows,
                                        int64_t root_begin, const torch::Tensor& out = {});

}  // namespace edgegnn::nn
