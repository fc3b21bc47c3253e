// CsrTranspose: a CSR read by column, for backward passes and weight
// gradients that must run over columns without atomics.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace edgegnn::nn {

// The transpose of a CSR over `num_cols` columns: for each column, the rows
// of its edges (int32) and the edges' ids (int64), by counting sort, so a
// column's edges keep their order. Backward passes run over it row-parallel,
// with no atomics.
struct CsrTranspose {
  torch::Tensor rowptr, row, edge;
};
CsrTranspose csr_transpose(const torch::Tensor& rowptr, const torch::Tensor& col, int64_t num_cols);

}  // namespace edgegnn::nn
