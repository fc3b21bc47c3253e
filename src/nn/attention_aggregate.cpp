#include "nn/attention_aggregate.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace edgegnn::nn {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Rows per task: enough that a task does real work even for narrow heads.
int64_t grain_for(int64_t row_width) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, row_width)); }

struct AttentionAggregateFunction : torch::autograd::Function<AttentionAggregateFunction> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& src_score,
                        const Tensor& dst_score, const Tensor& rowptr, const Tensor& col,
                        const Tensor& keep, double slope) {
    const int64_t num_dst = rowptr.size(0) - 1, heads = x.size(1), width = x.size(2);
    const int64_t* rp = rowptr.data_ptr<int64_t>();
    const int32_t* cp = col.data_ptr<int32_t>();
    Tensor alpha = torch::empty({col.size(0), heads}, x.options());
    Tensor out = torch::empty({num_dst, heads, width}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "attention_aggregate", [&] {
      const scalar_t* xp = x.data_ptr<scalar_t>();
      const scalar_t* sp = src_score.data_ptr<scalar_t>();
      const scalar_t* dp = dst_score.data_ptr<scalar_t>();
      const scalar_t* kp = keep.numel() > 0 ? keep.data_ptr<scalar_t>() : nullptr;
      scalar_t* ap = alpha.data_ptr<scalar_t>();
      scalar_t* op = out.data_ptr<scalar_t>();
      const auto s = static_cast<scalar_t>(slope);
      at::parallel_for(0, num_dst, grain_for(heads * width), [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          // Softmax per head over the row's edges, shifted by the row's largest logit.
          for (int64_t h = 0; h < heads; ++h) {
            scalar_t largest = -std::numeric_limits<scalar_t>::infinity();
            for (int64_t e = rp[i]; e < rp[i + 1]; ++e) {
              const scalar_t z = sp[cp[e] * heads + h] + dp[i * heads + h];
              ap[e * heads + h] = z > 0 ? z : s * z;
              largest = std::max(largest, ap[e * heads + h]);
            }
            scalar_t total = 0;
            for (int64_t e = rp[i]; e < rp[i + 1]; ++e)
              total += ap[e * heads + h] = std::exp(ap[e * heads + h] - largest);
            for (int64_t e = rp[i]; e < rp[i + 1]; ++e) ap[e * heads + h] /= total;
          }
          scalar_t* __restrict o = op + i * heads * width;
          for (int64_t f = 0; f < heads * width; ++f) o[f] = 0;
          for (int64_t e = rp[i]; e < rp[i + 1]; ++e) {
            const scalar_t* __restrict xr = xp + static_cast<int64_t>(cp[e]) * heads * width;
            for (int64_t h = 0; h < heads; ++h) {
              const scalar_t w = ap[e * heads + h] * (kp ? kp[e * heads + h] : scalar_t(1));
              for (int64_t c = 0; c < width; ++c) o[h * width + c] += w * xr[h * width + c];
            }
          }
        }
      });
    });
    if (x.requires_grad() || src_score.requires_grad() || dst_score.requires_grad()) {
      const CsrTranspose t = csr_transpose(rowptr, col, x.size(0));
      ctx->saved_data["t_rowptr"] = t.rowptr;
      ctx->saved_data["t_dst"] = t.row;
      ctx->saved_data["t_edge"] = t.edge;
      ctx->saved_data["alpha"] = alpha;
      ctx->saved_data["slope"] = slope;
      ctx->save_for_backward({x, src_score, dst_score, rowptr, col, keep});
    }
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const Tensor g = grad_outputs[0].contiguous();
    const auto saved = ctx->get_saved_variables();
    const Tensor &x = saved[0], &src_score = saved[1], &dst_score = saved[2], &rowptr = saved[3],
                 &col = saved[4], &keep = saved[5];
    const Tensor alpha = ctx->saved_data["alpha"].toTensor();
    const Tensor t_rowptr = ctx->saved_data["t_rowptr"].toTensor();
    const Tensor t_dst = ctx->saved_data["t_dst"].toTensor();
    const Tensor t_edge = ctx->saved_data["t_edge"].toTensor();
    const double slope = ctx->saved_data["slope"].toDouble();
    const int64_t num_dst = rowptr.size(0) - 1, num_src = x.size(0);
    const int64_t heads = x.size(1), width = x.size(2);
    const int64_t* rp = rowptr.data_ptr<int64_t>();
    const int32_t* cp = col.data_ptr<int32_t>();
    const int64_t* trp = t_rowptr.data_ptr<int64_t>();
    const int32_t* tdp = t_dst.data_ptr<int32_t>();
    const int64_t* tep = t_edge.data_ptr<int64_t>();
    // The gradient of each edge's logit before LeakyReLU, then what flows to
    // the dst rows (from their own edges) and to the source rows (transposed).
    Tensor grad_logit = torch::empty_like(alpha);
    Tensor grad_dst = torch::empty_like(dst_score);
    Tensor grad_src = torch::empty_like(src_score);
    Tensor grad_x = torch::empty_like(x);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "attention_aggregate_backward", [&] {
      const scalar_t* xp = x.data_ptr<scalar_t>();
      const scalar_t* gp = g.data_ptr<scalar_t>();
      const scalar_t* sp = src_score.data_ptr<scalar_t>();
      const scalar_t* dp = dst_score.data_ptr<scalar_t>();
      const scalar_t* kp = keep.numel() > 0 ? keep.data_ptr<scalar_t>() : nullptr;
      const scalar_t* ap = alpha.data_ptr<scalar_t>();
      scalar_t* lp = grad_logit.data_ptr<scalar_t>();
      const auto s = static_cast<scalar_t>(slope);
      at::parallel_for(0, num_dst, grain_for(heads * width), [&](int64_t begin, int64_t end) {
        scalar_t* gdp = grad_dst.data_ptr<scalar_t>();
        for (int64_t i = begin; i < end; ++i) {
          const scalar_t* gi = gp + i * heads * width;
          for (int64_t h = 0; h < heads; ++h) {
            // d out / d alpha[e] = keep[e] <g_i, x_j>; softmax's backward
            // subtracts the row's alpha-weighted mean of those.
            scalar_t mean = 0;
            for (int64_t e = rp[i]; e < rp[i + 1]; ++e) {
              const scalar_t* xr = xp + (static_cast<int64_t>(cp[e]) * heads + h) * width;
              scalar_t dot = 0;
              for (int64_t c = 0; c < width; ++c) dot += gi[h * width + c] * xr[c];
              lp[e * heads + h] = dot * (kp ? kp[e * heads + h] : scalar_t(1));
              mean += ap[e * heads + h] * lp[e * heads + h];
            }
            scalar_t to_dst = 0;
            for (int64_t e = rp[i]; e < rp[i + 1]; ++e) {
              const scalar_t z = sp[cp[e] * heads + h] + dp[i * heads + h];
              lp[e * heads + h] = ap[e * heads + h] * (lp[e * heads + h] - mean) * (z > 0 ? 1 : s);
              to_dst += lp[e * heads + h];
            }
            gdp[i * heads + h] = to_dst;
          }
        }
      });
      scalar_t* gsp = grad_src.data_ptr<scalar_t>();
      scalar_t* gxp = grad_x.data_ptr<scalar_t>();
      at::parallel_for(0, num_src, grain_for(heads * width), [&](int64_t begin, int64_t end) {
        for (int64_t j = begin; j < end; ++j) {
          scalar_t* __restrict gx = gxp + j * heads * width;
          for (int64_t f = 0; f < heads * width; ++f) gx[f] = 0;
          for (int64_t h = 0; h < heads; ++h) gsp[j * heads + h] = 0;
          for (int64_t t = trp[j]; t < trp[j + 1]; ++t) {
            const int64_t e = tep[t];
            const scalar_t* gi = gp + static_cast<int64_t>(tdp[t]) * heads * width;
            for (int64_t h = 0; h < heads; ++h) {
              gsp[j * heads + h] += lp[e * heads + h];
              const scalar_t w = ap[e * heads + h] * (kp ? kp[e * heads + h] : scalar_t(1));
              for (int64_t c = 0; c < width; ++c) gx[h * width + c] += w * gi[h * width + c];
            }
          }
        }
      });
    });
    return {grad_x, grad_src, grad_dst, Tensor(), Tensor(), Tensor(), Tensor()};
  }
};

}  // namespace

Tensor attention_aggregate(const Tensor& x, const Tensor& src_score, const Tensor& dst_score,
                           const CsrAdjacency& adjacency, double negative_slope,
                           const Tensor& keep) {
  const Tensor& rowptr = adjacency.rowptr;
  const Tensor& col = adjacency.col;
  check(x.dim() == 3 && x.is_contiguous() && x.is_floating_point(),
        "attention_aggregate: x must be a contiguous floating-point (rows, heads, width) tensor");
  const int64_t heads = x.size(1), num_dst = rowptr.size(0) - 1;
  check(rowptr.scalar_type() == torch::kInt64 && rowptr.is_contiguous() &&
            col.scalar_type() == torch::kInt32 && col.is_contiguous() &&
            col.size(0) == rowptr[-1].item<int64_t>() && !adjacency.weight.defined(),
        "attention_aggregate: the adjacency must be an unweighted CSR (int64 rowptr, int32 col)");
  auto scores_of = [&](const Tensor& score, int64_t rows) {
    return score.dim() == 2 && score.size(0) == rows && score.size(1) == heads &&
           score.scalar_type() == x.scalar_type() && score.is_contiguous();
  };
  check(scores_of(src_score, x.size(0)) && scores_of(dst_score, num_dst),
        "attention_aggregate: scores must be contiguous (rows, heads) of x's dtype");
  check(!keep.defined() || (keep.dim() == 2 && keep.size(0) == col.size(0) &&
                            keep.size(1) == heads && keep.scalar_type() == x.scalar_type() &&
                            keep.is_contiguous()),
        "attention_aggregate: the dropout mask must be contiguous (edges, heads) of x's dtype");
  // Autograd's apply() needs defined tensors: "no dropout" travels as an empty one.
  return AttentionAggregateFunction::apply(x, src_score, dst_score, rowptr, col,
                                           keep.defined() ? keep : torch::empty({0}, x.options()),
                                           negative_slope);
}

}  // namespace edgegnn::nn
