#include "nn/sparse_rows.h"

#include <ATen/Parallel.h>

#include <algorithm>

#include "core/error.h"

namespace edgegnn::nn {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

class SparseLinearFunction : public torch::autograd::Function<SparseLinearFunction> {
 public:
  static Tensor forward(AutogradContext* ctx, const Tensor& weight, const SparseRows& x) {
    const int64_t rows = x.num_rows(), out_width = weight.size(0);
    const Tensor wt = weight.detach().t().contiguous();  // (in, out): a column's row of W^T
    Tensor out = torch::zeros({rows, out_width});
    const int64_t* rp = x.rowptr.data_ptr<int64_t>();
    const int32_t* cp = x.col.data_ptr<int32_t>();
    const float* vp = x.values.data_ptr<float>();
    const float* w = wt.data_ptr<float>();
    float* op = out.data_ptr<float>();
    at::parallel_for(0, rows, 256, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        float* o = op + r * out_width;
        for (int64_t e = rp[r]; e < rp[r + 1]; ++e) {
          const float v = vp[e];
          const float* wr = w + int64_t{cp[e]} * out_width;
          for (int64_t j = 0; j < out_width; ++j) o[j] += v * wr[j];
        }
      }
    });
    ctx->saved_data["values"] = x.values;
    ctx->saved_data["colptr"] = x.by_column.rowptr;
    ctx->saved_data["entry_row"] = x.by_column.row;
    ctx->saved_data["entry"] = x.by_column.edge;
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const Tensor grad = grads[0].contiguous();
    const Tensor values = ctx->saved_data["values"].toTensor();
    const Tensor colptr = ctx->saved_data["colptr"].toTensor();
    const Tensor entry_row = ctx->saved_data["entry_row"].toTensor();
    const Tensor entry = ctx->saved_data["entry"].toTensor();
    const int64_t in_width = colptr.size(0) - 1, out_width = grad.size(1);
    Tensor grad_wt = torch::empty({in_width, out_width});
    const float* g = grad.data_ptr<float>();
    const float* vp = values.data_ptr<float>();
    const int64_t* cp = colptr.data_ptr<int64_t>();
    const int32_t* rp = entry_row.data_ptr<int32_t>();
    const int64_t* ep = entry.data_ptr<int64_t>();
    float* gw = grad_wt.data_ptr<float>();
    at::parallel_for(0, in_width, 64, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        float* o = gw + c * out_width;
        std::fill(o, o + out_width, 0.0f);
        for (int64_t k = cp[c]; k < cp[c + 1]; ++k) {
          const float v = vp[ep[k]];
          const float* gr = g + int64_t{rp[k]} * out_width;
          for (int64_t j = 0; j < out_width; ++j) o[j] += v * gr[j];
        }
      }
    });
    return {grad_wt.t().contiguous(), Tensor()};
  }
};

}  // namespace

SparseRows SparseRows::with_values(Tensor new_values) const {
  check(new_values.sizes() == values.sizes() && new_values.scalar_type() == torch::kFloat32,
        "SparseRows: {} new values for {} entries", new_values.numel(), values.numel());
  SparseRows out = *this;
  out.values = std::move(new_values);
  return out;
}

Tensor SparseRows::dense() const {
  Tensor out = torch::zeros({num_rows(), num_columns});
  const int64_t* rp = rowptr.data_ptr<int64_t>();
  const int32_t* cp = col.data_ptr<int32_t>();
  const float* vp = values.data_ptr<float>();
  float* op = out.data_ptr<float>();
  for (int64_t r = 0; r < num_rows(); ++r)
    for (int64_t e = rp[r]; e < rp[r + 1]; ++e) op[r * num_columns + cp[e]] = vp[e];
  return out;
}

int64_t SparseRows::memory_bytes() const {
  int64_t bytes = 0;
  for (const Tensor* t :
       {&rowptr, &col, &values, &by_column.rowptr, &by_column.row, &by_column.edge})
    bytes += t->numel() * t->element_size();
  return bytes;
}

std::optional<SparseRows> nonzeros_of(const Tensor& dense, double max_density) {
  check(dense.dim() == 2 && dense.scalar_type() == torch::kFloat32 && dense.is_contiguous(),
        "nonzeros_of: expected a contiguous float32 matrix");
  const int64_t rows = dense.size(0), width = dense.size(1);
  const float* x = dense.data_ptr<float>();
  // Counted first, stopping as soon as the matrix is too dense to gain.
  const double budget = max_density * static_cast<double>(dense.numel());
  int64_t nonzeros = 0;
  for (int64_t i = 0; i < dense.numel(); ++i) {
    nonzeros += x[i] != 0;
    if (nonzeros > budget) return std::nullopt;
  }
  SparseRows s;
  s.num_columns = width;
  s.rowptr = torch::empty({rows + 1}, torch::kInt64);
  s.col = torch::empty({nonzeros}, torch::kInt32);
  s.values = torch::empty({nonzeros});
  int64_t* rp = s.rowptr.data_ptr<int64_t>();
  int32_t* cp = s.col.data_ptr<int32_t>();
  float* vp = s.values.data_ptr<float>();
  int64_t n = 0;
  rp[0] = 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < width; ++c) {
      const float v = x[r * width + c];
      if (v == 0) continue;
      cp[n] = static_cast<int32_t>(c);
      vp[n] = v;
      ++n;
    }
    rp[r + 1] = n;
  }
  s.by_column = csr_transpose(s.rowptr, s.col, width);
  return s;
}

Tensor sparse_linear(const SparseRows& x, const Tensor& weight) {
  check(weight.dim() == 2 && weight.size(1) == x.num_columns &&
            weight.scalar_type() == torch::kFloat32,
        "sparse_linear: a weight of {} columns does not take {} columns", weight.size(1),
        x.num_columns);
  return SparseLinearFunction::apply(weight, x);
}

}  // namespace edgegnn::nn
