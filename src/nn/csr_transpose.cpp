#include "nn/csr_transpose.h"

#include <vector>

namespace edgegnn::nn {

using torch::Tensor;

CsrTranspose csr_transpose(const Tensor& rowptr, const Tensor& col, int64_t num_cols) {
  const int64_t num_rows = rowptr.size(0) - 1;
  const int64_t* rp = rowptr.data_ptr<int64_t>();
  const int32_t* cp = col.data_ptr<int32_t>();
  const int64_t num_edges = rp[num_rows];
  CsrTranspose t{torch::zeros({num_cols + 1}, torch::kInt64),
                 torch::empty({num_edges}, torch::kInt32),
                 torch::empty({num_edges}, torch::kInt64)};
  int64_t* trp = t.rowptr.data_ptr<int64_t>();
  int32_t* trow = t.row.data_ptr<int32_t>();
  int64_t* tedge = t.edge.data_ptr<int64_t>();
  for (int64_t e = 0; e < num_edges; ++e) ++trp[cp[e] + 1];
  for (int64_t j = 0; j < num_cols; ++j) trp[j + 1] += trp[j];
  std::vector<int64_t> fill(trp, trp + num_cols);
  for (int64_t i = 0; i < num_rows; ++i)
    for (int64_t e = rp[i]; e < rp[i + 1]; ++e) {
      const int64_t p = fill[cp[e]]++;
      trow[p] = static_cast<int32_t>(i);
      tedge[p] = e;
    }
  return t;
}

}  // namespace edgegnn::nn
