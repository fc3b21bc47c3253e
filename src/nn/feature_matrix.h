// FeatureMatrix: a layer's input as it is stored — a float32 tensor, or the
// feature matrix compressed (--feature-dtype): float16 values, or 8-bit codes q
// with x = offset[f] + scale[f] * q in each column f (see graph::PackedFeatures).
//
// Layers take a FeatureMatrix so that the first one reads compressed rows where
// they lie: csr_aggregate reads them directly and accumulates in float32, and
// only the rows a batch needs (the root term's dst rows) are widened, by rows().
// Compressed matrices carry no gradient (features never need one).
//
// A float tensor converts implicitly (every layer after the first is given
// one), and every accessor then returns that tensor or the very view the
// layers took of it before, so float32 runs compute exactly what they did.
//
// A stacked matrix is several matrices' rows one after another, read where
// they lie: partition training's first layer reads the part's own rows, its
// feature cache and the rows fetched for the step as one table, instead of a
// copy of the batch's rows (Reddit, 4 parts: 110 K x 602 floats a step).
// Holds its tensors by reference; borrowed storage must outlive it.
//
// A mostly-zero float32 matrix may also carry its nonzeros (with_nonzeros),
// for layers that multiply by them; input dropout then gives such a layer the
// dropped nonzeros alone (of_nonzeros), never a dense matrix.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "graph/feature_dtype.h"
#include "nn/sparse_rows.h"

namespace edgegnn::nn {

class FeatureMatrix {
 public:
  FeatureMatrix() = default;
  // A float tensor (rows, F), as is (it may require grad). Implicit, see above.
  FeatureMatrix(torch::Tensor values);  // NOLINT(google-explicit-constructor)
  // float16 values (rows, F).
  static FeatureMatrix float16(torch::Tensor values);
  // uint8 codes (rows, F) with float32 per-column scale and offset (F).
  static FeatureMatrix int8(torch::Tensor codes, torch::Tensor scale, torch::Tensor offset);

  // The rows of `parts`, in order, without a copy. All of one dtype with as
  // many columns (int8: the same scale and offset tensors); no gradient.
  static FeatureMatrix stacked(const std::vector<FeatureMatrix>& parts);

  // This unstacked float32 matrix, carrying its nonzeros too where at most
  // `max_density` of its values are nonzero (else as it is).
  FeatureMatrix with_nonzeros(double max_density) const;
  // A matrix given by its nonzeros alone: read only through nonzeros(),
  // widen(), num_rows() and num_columns().
  static FeatureMatrix of_nonzeros(SparseRows nonzeros);
  // The nonzeros it carries, or null.
  const SparseRows* nonzeros() const { return nonzeros_.get(); }

  bool defined() const { return values_.defined() || stacked() || nonzeros_; }
  bool stacked() const { return !segments_.empty(); }
  graph::FeatureDtype dtype() const { return dtype_; }
  bool compressed() const { return dtype_ != graph::FeatureDtype::kFloat32; }
  // As stored; not defined for a stacked matrix (read it through the rest).
  const torch::Tensor& values() const { return values_; }
  const torch::Tensor& scale() const { return scale_; }    // int8 only
  const torch::Tensor& offset() const { return offset_; }  // int8 only
  int64_t num_rows() const {
    return stacked()         ? segment_first_.back()
           : only_nonzeros() ? nonzeros_->num_rows()
                             : values_.size(0);
  }
  int64_t num_columns() const {
    return only_nonzeros() ? nonzeros_->num_columns : (stacked() ? segments_[0] : values_).size(1);
  }

  // Stored rows read in place, stacked or not, for kernels: at(r) is the
  // first of row r's values. T is the stored type (float, c10::Half, uint8_t).
  template <typename T>
  class StoredRows {
   public:
    const T* at(int64_t r) const {
      size_t s = 0;
      while (r >= first_[s + 1]) ++s;
      return base_[s] + (r - first_[s]) * width_;
    }

   private:
    friend class FeatureMatrix;
    std::vector<const T*> base_;
    std::vector<int64_t> first_;  // segment s holds rows [first_[s], first_[s + 1])
    int64_t width_ = 0;
  };
  template <typename T>
  StoredRows<T> stored_rows() const {
    StoredRows<T> rows;
    rows.width_ = num_columns();
    if (!stacked()) {
      rows.base_ = {static_cast<const T*>(values_.data_ptr())};
      rows.first_ = {0, values_.size(0)};
      return rows;
    }
    for (const torch::Tensor& s : segments_)
      rows.base_.push_back(static_cast<const T*>(s.data_ptr()));
    rows.first_ = segment_first_;
    return rows;
  }

  // Stored row `row` (of type T, width values) widened into `out`: float16
  // converted, 8-bit codes dequantised with scale and offset (null otherwise).
  template <typename T>
  static void widen_row(const T* __restrict row, int64_t width, const float* scale,
                        const float* offset, float* __restrict out) {
    if (scale)
      for (int64_t f = 0; f < width; ++f)
        out[f] = static_cast<float>(row[f]) * scale[f] + offset[f];
    else
      for (int64_t f = 0; f < width; ++f) out[f] = static_cast<float>(row[f]);
  }

  // All rows as float32 (an unstacked float32 matrix: its own values, no copy).
  torch::Tensor widen() const;
  // The rows at `index` (int64), widened.
  torch::Tensor rows(const torch::Tensor& index) const;
  // Rows [begin, begin + count), widened (an unstacked float32 matrix: a view).
  torch::Tensor rows(int64_t begin, int64_t count) const;
  // fn over rows [begin, begin + count), widened: one call on an unstacked
  // float32 matrix's rows (a view); on any other, a few MiB of widened rows at
  // a time, so that they are never all widened at once. Returns fn's rows
  // stacked, or an undefined tensor where fn returns one.
  using RowFunction = std::function<torch::Tensor(const torch::Tensor&)>;
  torch::Tensor map_rows(const RowFunction& fn, int64_t begin, int64_t count) const;
  // The same over all rows (a float32 matrix: fn of its values).
  torch::Tensor map_rows(const RowFunction& fn) const;
  // A matrix (unstacked) like this one (dtype, scale, offset) with `num_rows` rows, uninitialised.
  FeatureMatrix empty_like(int64_t num_rows) const;
  // A matrix like this one over `values`, stored as this one's are.
  FeatureMatrix like(torch::Tensor values) const;
  // Bytes of the stored values, scale and offset.
  int64_t memory_bytes() const;

 private:
  // Stored rows index[i] (or begin + i when index is null), i < count, widened
  // in one pass: no stored-dtype copy of the rows on the way.
  torch::Tensor widen_rows(const int64_t* index, int64_t begin, int64_t count) const;
  bool only_nonzeros() const { return nonzeros_ && !values_.defined(); }

  graph::FeatureDtype dtype_ = graph::FeatureDtype::kFloat32;
  torch::Tensor values_, scale_, offset_;
  std::vector<torch::Tensor> segments_;  // a stacked matrix's parts' values
  std::vector<int64_t> segment_first_;   // their first rows, then the row count
  std::shared_ptr<const SparseRows> nonzeros_;
};

}  // namespace edgegnn::nn
