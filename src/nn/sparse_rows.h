// SparseRows: a mostly-zero matrix (bag-of-words features: Cora's are 1.3 %
// nonzero) as its nonzeros by row, with the same entries by column for the
// weight gradient of a product.
//
// The GCN paper's own code keeps its input features this way: input dropout
// then touches the nonzeros alone (a zero stays zero whether dropped or not),
// and the first layer's product costs nonzeros x out multiply-adds instead of
// rows x in x out. On Cora that was 55 % of a full-batch epoch.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <optional>

#include "nn/csr_transpose.h"

namespace edgegnn::nn {

struct SparseRows {
  torch::Tensor rowptr;  // int64 (rows + 1)
  torch::Tensor col;     // int32 (nonzeros): each entry's column, by row then column
  torch::Tensor values;  // float32 (nonzeros)
  CsrTranspose by_column;  // the entries by column, each column's in row order
  int64_t num_columns = 0;

  int64_t num_rows() const { return rowptr.size(0) - 1; }
  int64_t num_nonzeros() const { return values.size(0); }
  // The same entries with other values (a dropout of these): shares the index.
  SparseRows with_values(torch::Tensor new_values) const;
  // The matrix as a dense float32 tensor.
  torch::Tensor dense() const;
  int64_t memory_bytes() const;
};

// The nonzeros of a contiguous float32 matrix, or nothing where more than
// `max_density` of its values are nonzero.
std::optional<SparseRows> nonzeros_of(const torch::Tensor& dense, double max_density);

// x W^T (x: rows x in, weight: out x in), differentiable in `weight` (x never
// needs a gradient). The weight gradient runs over columns, so no two threads
// write one value and the sums do not depend on the thread count.
torch::Tensor sparse_linear(const SparseRows& x, const torch::Tensor& weight);

}  // namespace edgegnn::nn
