#include "nn/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <bit>
#include <mutex>

#include "core/error.h"

namespace edgegnn::nn {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// splitmix64's finaliser: a bijection whose output bits all depend on every
// input bit, so consecutive counters give independent-looking words.
inline uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// One word per four elements: its 16-bit lanes decide them.
inline uint64_t word(uint64_t key, int64_t group) {
  return mix(key + static_cast<uint64_t>(group) * 0x9e3779b97f4a7c15ULL);
}

uint64_t next_key() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get<at::CPUGeneratorImpl>()->random64();
}

uint32_t threshold_of(double p) { return static_cast<uint32_t>(std::lround(p * 65536.0)); }

// out[i] = in[i] * scale where element i is kept (and, for kRelu, not <= 0),
// else in[i] * 0, which keeps NaN and inf visible as torch's dropout does.
// Bit masks, not branches or conversions: half the elements go each way, at
// random, and a masked factor keeps the loop to integer and one multiply.
template <bool kRelu>
inline float masked(float v, uint64_t word, int lane, uint32_t drop_below, uint32_t scale_bits) {
  uint32_t keep = 0u - static_cast<uint32_t>(((word >> (16 * lane)) & 0xffff) >= drop_below);
  if constexpr (kRelu) keep &= 0u - static_cast<uint32_t>(!(v <= 0));
  return v * std::bit_cast<float>(scale_bits & keep);
}

// In parallel by groups of four elements, so each word is hashed once.
template <bool kRelu>
void apply_mask(const float* in, float* out, int64_t n, uint64_t key, uint32_t drop_below,
                float scale) {
  const uint32_t scale_bits = std::bit_cast<uint32_t>(scale);
  const int64_t groups = (n + 3) / 4;
  at::parallel_for(0, groups, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t g = begin; g < end; ++g) {
      const uint64_t w = word(key, g);
      const int64_t first = g * 4;
      if (first + 4 <= n) {
        for (int lane = 0; lane < 4; ++lane)
          out[first + lane] = masked<kRelu>(in[first + lane], w, lane, drop_below, scale_bits);
      } else {
        for (int lane = 0; first + lane < n; ++lane)
          out[first + lane] = masked<kRelu>(in[first + lane], w, lane, drop_below, scale_bits);
      }
    }
  });
}

class ReluDropoutFunction : public torch::autograd::Function<ReluDropoutFunction> {
 public:
  static Tensor forward(AutogradContext* ctx, const Tensor& h, double p) {
    const Tensor input = h.contiguous();
    Tensor out = torch::empty_like(input);
    apply_mask<true>(input.data_ptr<float>(), out.data_ptr<float>(), input.numel(), next_key(),
                     threshold_of(p), static_cast<float>(1.0 / (1.0 - p)));
    ctx->save_for_backward({out});
    ctx->saved_data["scale"] = 1.0 / (1.0 - p);
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const Tensor out = ctx->get_saved_variables()[0];
    const float scale = static_cast<float>(ctx->saved_data["scale"].toDouble());
    const Tensor grad = grads[0].contiguous();
    Tensor grad_h = torch::empty_like(out);
    const float* o = out.data_ptr<float>();
    const float* g = grad.data_ptr<float>();
    float* gh = grad_h.data_ptr<float>();
    // A mask, not a branch: half the elements go each way, at random, and a
    // branch mispredicted on them took 2x the loop's memory time.
    at::parallel_for(0, out.numel(), 16384, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const uint32_t keep = 0u - static_cast<uint32_t>(o[i] > 0);
        gh[i] = std::bit_cast<float>(std::bit_cast<uint32_t>(g[i] * scale) & keep);
      }
    });
    return {grad_h, Tensor()};
  }
};

}  // namespace

bool dropout_keeps(uint64_t key, int64_t index, uint32_t drop_below) {
  const uint64_t w = word(key, index / 4);
  return (static_cast<uint32_t>(w >> (16 * (index % 4))) & 0xffff) >= drop_below;
}

Tensor relu_dropout(const Tensor& h, double p) {
  check(p >= 0 && p < 1, "dropout: p = {} is not in [0, 1)", p);
  if (p == 0) return torch::relu(h);
  check(h.scalar_type() == torch::kFloat32, "dropout: float32 activations only");
  return ReluDropoutFunction::apply(h, p);
}

Tensor dropout_features(const Tensor& x, double p, Tensor out) {
  check(p >= 0 && p < 1, "dropout: p = {} is not in [0, 1)", p);
  if (p == 0) return x;
  check(x.scalar_type() == torch::kFloat32 && x.is_contiguous() && !x.requires_grad(),
        "dropout_features: contiguous float32 features without gradient only");
  if (!out.defined()) out = torch::empty_like(x);
  check(out.sizes() == x.sizes() && out.scalar_type() == torch::kFloat32 && out.is_contiguous(),
        "dropout_features: out must be contiguous float32 of x's shape");
  apply_mask<false>(x.data_ptr<float>(), out.data_ptr<float>(), x.numel(), next_key(),
                    threshold_of(p), static_cast<float>(1.0 / (1.0 - p)));
  return out;
}

SparseRows dropout_nonzeros(const SparseRows& x, double p) {
  check(p >= 0 && p < 1, "dropout: p = {} is not in [0, 1)", p);
  if (p == 0) return x;
  const uint64_t key = next_key();
  const uint32_t drop_below = threshold_of(p);
  const uint32_t scale_bits = std::bit_cast<uint32_t>(static_cast<float>(1.0 / (1.0 - p)));
  Tensor values = torch::empty_like(x.values);
  const int64_t* rp = x.rowptr.data_ptr<int64_t>();
  const int32_t* cp = x.col.data_ptr<int32_t>();
  const float* in = x.values.data_ptr<float>();
  float* out = values.data_ptr<float>();
  at::parallel_for(0, x.num_rows(), 1024, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      for (int64_t e = rp[r]; e < rp[r + 1]; ++e) {
        const int64_t index = r * x.num_columns + cp[e];
        out[e] = masked<false>(in[e], word(key, index / 4), static_cast<int>(index % 4), drop_below,
                               scale_bits);
      }
    }
  });
  return x.with_values(values);
}

Tensor dropout_mask(at::IntArrayRef sizes, double p) {
  Tensor ones = torch::ones(sizes);
  return dropout_features(ones, p, ones);
}

}  // namespace edgegnn::nn
