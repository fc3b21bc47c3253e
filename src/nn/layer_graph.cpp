#include "nn/layer_graph.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace edgegnn::nn {
namespace {

// 1 / sqrt(deg^(v)) with deg^ = in-degree + 1, an existing self-loop counted once.
float inverse_sqrt_degree(const graph::Graph& g, int32_t v) {
  auto neighbors = g.in_neighbors(v);
  const bool has_loop = std::binary_search(neighbors.begin(), neighbors.end(), v);
  return 1.0f / std::sqrt(static_cast<float>(neighbors.size() + (has_loop ? 0 : 1)));
}

// Builds the tensors of a CSR whose row i (dst node dst_id(i)) has the columns
// col_of(e) for e in [rowptr[i], rowptr[i+1]); `self_col(i)` is the column of
// dst i's own row. For GCN and GAT, drops given self-loops and adds one per
// row; for GCN, weights each edge 1/sqrt(deg^(dst) deg^(src)).
template <typename DstId, typename SrcId, typename Col, typename SelfCol>
CsrAdjacency make_adjacency(int64_t num_dst, const int64_t* rowptr, DstId dst_id, SrcId src_id,
                            Col col_of, SelfCol self_col, Normalization normalization,
                            const graph::Graph& g) {
  const bool gcn = normalization == Normalization::kGcn;
  const bool loops = normalization != Normalization::kNone;
  const int64_t first = rowptr[0];
  const int64_t max_edges = rowptr[num_dst] - first + (loops ? num_dst : 0);
  torch::Tensor out_rowptr = torch::empty({num_dst + 1}, torch::kInt64);
  torch::Tensor out_col = torch::empty({max_edges}, torch::kInt32);
  torch::Tensor weight = gcn ? torch::empty({max_edges}, torch::kFloat32) : torch::Tensor();
  int64_t* rp = out_rowptr.data_ptr<int64_t>();
  int32_t* cp = out_col.data_ptr<int32_t>();
  float* wp = gcn ? weight.data_ptr<float>() : nullptr;
  int64_t n = 0;
  rp[0] = 0;
  for (int64_t i = 0; i < num_dst; ++i) {
    const int32_t v = dst_id(i);
    const float dst_norm = gcn ? inverse_sqrt_degree(g, v) : 1.0f;
    for (int64_t e = rowptr[i]; e < rowptr[i + 1]; ++e) {
      const int32_t u = src_id(e);
      if (loops && u == v) continue;
      cp[n] = col_of(e);
      if (gcn) wp[n] = dst_norm * inverse_sqrt_degree(g, u);
      ++n;
    }
    if (loops) {
      cp[n] = self_col(i);
      if (gcn) wp[n] = dst_norm * dst_norm;
      ++n;
    }
    rp[i + 1] = n;
  }
  out_col = out_col.narrow(0, 0, n).contiguous();
  if (gcn) weight = weight.narrow(0, 0, n).contiguous();
  return {out_rowptr, out_col, weight};
}

torch::Tensor ids_tensor(const int32_t* ids, int64_t n) {
  torch::Tensor t = torch::empty({n}, torch::kInt64);
  std::copy(ids, ids + n, t.data_ptr<int64_t>());
  return t;
}

}  // namespace

LayerGraph block_layer_graph(const sample::Block& block, bool global_input,
                             Normalization normalization, const graph::Graph& g,
                             std::span<const int32_t> dst_input_rows) {
  LayerGraph out;
  out.num_dst = block.num_dst();
  const auto* src = block.src_ids.data();
  const auto* col = block.col.data();
  auto dst_id = [&](int64_t i) { return block.dst_ids[i]; };
  auto src_id = [&](int64_t e) { return src[col[e]]; };
  if (global_input && normalization != Normalization::kSelfLoops) {
    out.adjacency = make_adjacency(out.num_dst, block.rowptr.data(), dst_id, src_id, src_id,
                                   dst_id, normalization, g);
    out.dst_rows = ids_tensor(block.dst_ids.data(), out.num_dst);
  } else if (global_input) {
    // Gathered sources: the dst nodes first, then the other sources the
    // edges read. A pipeline's micro-batch block keeps the whole batch's
    // sources, most of which its edges never read, and its dst nodes are
    // not the first of them.
    const int64_t num_dst = out.num_dst;
    std::vector<int32_t> local(block.num_src(), -1), gathered(block.dst_ids);
    for (int64_t i = 0; i < num_dst; ++i) {
      for (int64_t e = block.rowptr[i]; e < block.rowptr[i + 1]; ++e) {
        const int32_t c = col[e];
        if (local[c] >= 0 || src[c] == block.dst_ids[i]) continue;  // self-loops: row i
        const bool is_dst = c < num_dst && src[c] == block.dst_ids[c];
        local[c] = is_dst ? c : static_cast<int32_t>(gathered.size());
        if (!is_dst) gathered.push_back(src[c]);
      }
    }
    auto local_col = [&](int64_t e) { return local[col[e]]; };
    auto self_col = [](int64_t i) { return static_cast<int32_t>(i); };
    out.adjacency = make_adjacency(num_dst, block.rowptr.data(), dst_id, src_id, local_col,
                                   self_col, normalization, g);
    out.src_rows = ids_tensor(gathered.data(), static_cast<int64_t>(gathered.size()));
  } else if (!dst_input_rows.empty()) {
    auto local_col = [&](int64_t e) { return col[e]; };
    auto self_col = [&](int64_t i) { return dst_input_rows[i]; };
    out.adjacency = make_adjacency(out.num_dst, block.rowptr.data(), dst_id, src_id, local_col,
                                   self_col, normalization, g);
    out.dst_rows = ids_tensor(dst_input_rows.data(), out.num_dst);
  } else {
    auto local_col = [&](int64_t e) { return col[e]; };
    auto self_col = [](int64_t i) { return static_cast<int32_t>(i); };
    out.adjacency = make_adjacency(out.num_dst, block.rowptr.data(), dst_id, src_id, local_col,
                                   self_col, normalization, g);
  }
  return out;
}

void relocate_input(LayerGraph& graph, std::span<const int32_t> input_rows,
                    Normalization normalization) {
  check(!graph.dst_rows.defined() && !graph.src_rows.defined() && graph.dst_begin == 0,
        "relocate_input: the layer graph's input is laid out already");
  if (normalization == Normalization::kSelfLoops) {
    graph.src_rows = ids_tensor(input_rows.data(), static_cast<int64_t>(input_rows.size()));
    return;
  }
  int32_t* col = graph.adjacency.col.data_ptr<int32_t>();
  for (int64_t e = 0; e < graph.adjacency.col.numel(); ++e) col[e] = input_rows[col[e]];
  graph.dst_rows = ids_tensor(input_rows.data(), graph.num_dst);
}

LayerGraph full_layer_graph(const graph::Graph& g, int64_t begin, int64_t end,
                            Normalization normalization) {
  LayerGraph out;
  out.num_dst = end - begin;
  const int32_t* col = g.col.data();
  auto dst_id = [&](int64_t i) { return static_cast<int32_t>(begin + i); };
  auto src_id = [&](int64_t e) { return col[e]; };
  out.adjacency = make_adjacency(out.num_dst, g.rowptr.data() + begin, dst_id, src_id, src_id,
                                 dst_id, normalization, g);
  out.dst_begin = begin;
  return out;
}

}  // namespace edgegnn::nn
