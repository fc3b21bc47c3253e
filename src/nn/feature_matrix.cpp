#include "nn/feature_matrix.h"

#include "core/error.h"

namespace edgegnn::nn {
namespace {

// Bytes of widened rows map_rows hands to its function at a time.
constexpr int64_t kChunkBytes = 4 << 20;

}  // namespace

FeatureMatrix::FeatureMatrix(torch::Tensor values) : values_(std::move(values)) {
  check(!values_.defined() || (values_.dim() == 2 && values_.is_floating_point() &&
                               values_.scalar_type() != torch::kHalf),
        "FeatureMatrix: expected a float32 or float64 matrix");
}

FeatureMatrix FeatureMatrix::float16(torch::Tensor values) {
  // Compressed rows are read in place, row by row.
  check(values.dim() == 2 && values.scalar_type() == torch::kHalf && values.is_contiguous(),
        "FeatureMatrix: expected a contiguous float16 matrix");
  FeatureMatrix m;
  m.dtype_ = graph::FeatureDtype::kFloat16;
  m.values_ = std::move(values);
  return m;
}

FeatureMatrix FeatureMatrix::int8(torch::Tensor codes, torch::Tensor scale, torch::Tensor offset) {
  check(codes.dim() == 2 && codes.scalar_type() == torch::kUInt8 && codes.is_contiguous(),
        "FeatureMatrix: expected a contiguous uint8 code matrix");
  check(scale.scalar_type() == torch::kFloat32 && offset.scalar_type() == torch::kFloat32 &&
            scale.is_contiguous() && offset.is_contiguous() && scale.dim() == 1 &&
            scale.size(0) == codes.size(1) && offset.sizes() == scale.sizes(),
        "FeatureMatrix: int8 codes need a contiguous float32 scale and offset per column");
  FeatureMatrix m;
  m.dtype_ = graph::FeatureDtype::kInt8;
  m.values_ = std::move(codes);
  m.scale_ = std::move(scale);
  m.offset_ = std::move(offset);
  return m;
}

FeatureMatrix FeatureMatrix::stacked(const std::vector<FeatureMatrix>& parts) {
  check(!parts.empty(), "FeatureMatrix: nothing to stack");
  FeatureMatrix m;
  m.dtype_ = parts[0].dtype_;
  m.scale_ = parts[0].scale_;
  m.offset_ = parts[0].offset_;
  m.segment_first_ = {0};
  for (const FeatureMatrix& p : parts) {
    check(!p.stacked() && p.dtype_ == m.dtype_ && p.num_columns() == parts[0].num_columns() &&
              p.values_.is_contiguous() && !p.values_.requires_grad() &&
              (p.compressed() || p.values_.scalar_type() == torch::kFloat32) &&
              p.scale_.is_same(m.scale_) && p.offset_.is_same(m.offset_),
          "FeatureMatrix: stacked parts must be contiguous, of one dtype (float32, float16 or "
          "int8) and width, without gradient");
    m.segments_.push_back(p.values_);
    m.segment_first_.push_back(m.segment_first_.back() + p.num_rows());
  }
  return m;
}

FeatureMatrix FeatureMatrix::with_nonzeros(double max_density) const {
  check(!compressed() && !stacked() && !only_nonzeros() && values_.scalar_type() == torch::kFloat32,
        "FeatureMatrix: nonzeros of an unstacked float32 matrix only");
  FeatureMatrix m = *this;
  if (std::optional<SparseRows> s = nonzeros_of(values_.contiguous(), max_density))
    m.nonzeros_ = std::make_shared<const SparseRows>(std::move(*s));
  return m;
}

FeatureMatrix FeatureMatrix::of_nonzeros(SparseRows nonzeros) {
  FeatureMatrix m;
  m.nonzeros_ = std::make_shared<const SparseRows>(std::move(nonzeros));
  return m;
}

torch::Tensor FeatureMatrix::widen_rows(const int64_t* index, int64_t begin, int64_t count) const {
  const int64_t width = num_columns();
  torch::Tensor out = torch::empty({count, width}, torch::kFloat32);
  float* op = out.data_ptr<float>();
  const bool codes = dtype_ == graph::FeatureDtype::kInt8;
  const float* scale = codes ? scale_.data_ptr<float>() : nullptr;
  const float* offset = codes ? offset_.data_ptr<float>() : nullptr;
  auto widen = [&]<typename T>(const StoredRows<T>& rows) {
    const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, width));
    at::parallel_for(0, count, grain, [&](int64_t first, int64_t last) {
      for (int64_t i = first; i < last; ++i)
        widen_row(rows.at(index ? index[i] : begin + i), width, scale, offset, op + i * width);
    });
  };
  if (codes)
    widen(stored_rows<uint8_t>());
  else if (compressed())
    widen(stored_rows<c10::Half>());
  else
    widen(stored_rows<float>());
  return out;
}

torch::Tensor FeatureMatrix::widen() const {
  if (only_nonzeros()) return nonzeros_->dense();
  return compressed() || stacked() ? widen_rows(nullptr, 0, num_rows()) : values_;
}

torch::Tensor FeatureMatrix::rows(const torch::Tensor& index) const {
  if (!compressed() && !stacked()) return values_.index_select(0, index);
  check(index.scalar_type() == torch::kInt64 && index.dim() == 1,
        "FeatureMatrix: row index must be a 1-d int64 tensor");
  const torch::Tensor ids = index.contiguous();
  check(ids.numel() == 0 ||
            (ids.min().item<int64_t>() >= 0 && ids.max().item<int64_t>() < num_rows()),
        "FeatureMatrix: row index out of range [0, {})", num_rows());
  return widen_rows(ids.data_ptr<int64_t>(), 0, ids.numel());
}

torch::Tensor FeatureMatrix::rows(int64_t begin, int64_t count) const {
  if (!compressed() && !stacked()) return values_.narrow(0, begin, count);
  check(begin >= 0 && count >= 0 && begin + count <= num_rows(),
        "FeatureMatrix: rows [{}, {}) out of range [0, {})", begin, begin + count, num_rows());
  return widen_rows(nullptr, begin, count);
}

torch::Tensor FeatureMatrix::map_rows(const RowFunction& fn, int64_t begin, int64_t count) const {
  if (!compressed() && !stacked()) return fn(values_.narrow(0, begin, count));
  const int64_t chunk_rows =
      std::max<int64_t>(1, kChunkBytes / (4 * std::max<int64_t>(1, num_columns())));
  torch::Tensor out;
  for (int64_t first = begin; first < begin + count; first += chunk_rows) {
    const int64_t n = std::min(chunk_rows, begin + count - first);
    torch::Tensor part = fn(rows(first, n));
    if (!part.defined()) return part;  // fn has nothing to say (a layer without a root term)
    if (!out.defined()) out = torch::empty({count, part.size(1)}, part.options());
    out.narrow(0, first - begin, n).copy_(part);
  }
  return out.defined() ? out : fn(rows(begin, 0));
}

torch::Tensor FeatureMatrix::map_rows(const RowFunction& fn) const {
  return compressed() || stacked() ? map_rows(fn, 0, num_rows()) : fn(values_);
}

FeatureMatrix FeatureMatrix::empty_like(int64_t num_rows) const {
  return like(
      torch::empty({num_rows, num_columns()}, (stacked() ? segments_[0] : values_).options()));
}

FeatureMatrix FeatureMatrix::like(torch::Tensor values) const {
  FeatureMatrix m = *this;
  m.values_ = std::move(values);
  m.segments_.clear();
  m.segment_first_.clear();
  m.nonzeros_.reset();
  return m;
}

int64_t FeatureMatrix::memory_bytes() const {
  int64_t bytes = 0;
  for (const torch::Tensor* t : {&values_, &scale_, &offset_})
    if (t->defined()) bytes += t->numel() * t->element_size();
  for (const torch::Tensor& t : segments_) bytes += t.numel() * t.element_size();
  return bytes + (nonzeros_ ? nonzeros_->memory_bytes() : 0);
}

}  // namespace edgegnn::nn
