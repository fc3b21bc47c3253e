// attention_aggregate: GAT's edge softmax and attention-weighted sum over a
// block's CSR (Veličković et al. 2018; PyG's GATConv), one torch autograd
// function with edgegnn's own kernels, parallel over rows and without atomics
// in either direction, as csr_aggregate (csr_aggregate.h) is:
//
//   z[e, h]      = LeakyReLU(src_score[col[e], h] + dst_score[i, h])   e in row i
//   alpha[e, h]  = exp(z[e, h]) / sum over e' in row i of exp(z[e', h])
//   out[i, h, :] = sum over e in row i of alpha[e, h] keep[e, h] x[col[e], h, :]
//
// `keep` is attention dropout's mask, already scaled (0 or 1 / (1 - p)), or
// undefined for none. Gradients flow to x, src_score and dst_score. Backward
// runs over the transposed CSR for what flows to source rows, built in
// forward only when a gradient is needed. It keeps alpha, E x H floats: GAT's
// memory cost per layer beyond the aggregation's.
//
// Shapes: x (num_src, H, C), src_score (num_src, H), dst_score (num_dst, H),
// keep (E, H); out (num_dst, H, C); float or double, contiguous. A row
// without edges gives zeros.
#pragma once

#include <torch/torch.h>

#include "nn/csr_aggregate.h"

namespace edgegnn::nn {

torch::Tensor attention_aggregate(const torch::Tensor& x, const torch::Tensor& src_score,
                                  const torch::Tensor& dst_score, const CsrAdjacency& adjacency,
                                  double negative_slope, const torch::Tensor& keep = {});

}  // namespace edgegnn::nn
