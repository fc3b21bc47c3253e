#include "train/compress_features.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>

#include "core/error.h"

namespace edgegnn::train {
namespace {

// float32 bytes converted between two releases of source pages.
constexpr int64_t kChunkBytes = 4 << 20;
constexpr float kFloat16Max = 65504.0f;

// Calls fn(first_row, num_rows) on consecutive row chunks of the float32
// matrix; after each, releases its pages when `release` is set.
template <typename Fn>
void for_each_chunk(const graph::Graph& g, bool release, Fn&& fn) {
  const int64_t width = std::max<int64_t>(1, g.num_features);
  const int64_t chunk_rows = std::max<int64_t>(1, kChunkBytes / (width * 4));
  for (int64_t first = 0; first < g.num_nodes; first += chunk_rows) {
    const int64_t count = std::min(chunk_rows, g.num_nodes - first);
    fn(first, count);
    if (release)
      graph::release_pages(g.features.data() + first * g.num_features,
                    count * g.num_features * sizeof(float));
  }
}

// Calls fn(v) for every row v of [first, first + count), in parallel. Plain
// loops, not tensor ops: those would leave their temporaries in the heap,
// resident for the whole run.
template <typename Fn>
void for_each_row(const graph::Graph& g, int64_t first, int64_t count, Fn&& fn) {
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, g.num_features));
  at::parallel_for(first, first + count, grain, [&](int64_t begin, int64_t end) {
    for (int64_t v = begin; v < end; ++v) fn(v);
  });
}

void pack_float16(const graph::Graph& g, c10::Half* out) {
  const int64_t width = g.num_features;
  const float* x = g.features.data();
  for_each_chunk(g, /*release=*/true, [&](int64_t first, int64_t count) {
    for (int64_t i = first * width; i < (first + count) * width; ++i)
      if (std::abs(x[i]) > kFloat16Max)
        fail(
            "--feature-dtype float16: feature {} of node {} is {}, beyond float16's range "
            "(+-65504); use int8 or float32",
            i % width, i / width, x[i]);
    for_each_row(g, first, count, [&](int64_t v) {
      for (int64_t i = v * width; i < (v + 1) * width; ++i) out[i] = c10::Half(x[i]);
    });
  });
}

// Per-column min and max over all rows (and over all ranks, with `comm`);
// 0 and 0 for a column without rows anywhere.
std::pair<std::vector<float>, std::vector<float>> column_ranges(const graph::Graph& g,
                                                                comm::Communicator* comm) {
  const int64_t width = g.num_features;
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> low(width, inf), high(width, -inf);
  const float* x = g.features.data();
  // A mapping is read again from the file by the second pass; owned rows must stay.
  for_each_chunk(g, /*release=*/g.features.is_mapped(), [&](int64_t first, int64_t count) {
    for (int64_t v = first; v < first + count; ++v)
      for (int64_t f = 0; f < width; ++f) {
        low[f] = std::min(low[f], x[v * width + f]);
        high[f] = std::max(high[f], x[v * width + f]);
      }
  });
  if (comm) {
    std::vector<float> mine = low;
    mine.insert(mine.end(), high.begin(), high.end());
    for (const auto& theirs : comm->alltoallv_lists(std::vector(comm->size(), mine)))
      for (int64_t f = 0; f < width; ++f) {
        low[f] = std::min(low[f], theirs[f]);
        high[f] = std::max(high[f], theirs[width + f]);
      }
  }
  for (int64_t f = 0; f < width; ++f)
    if (low[f] > high[f]) low[f] = high[f] = 0;
  return {low, high};
}

void pack_int8(const graph::Graph& g, comm::Communicator* comm, uint8_t* out,
               graph::PackedFeatures& packed) {
  auto [low, high] = column_ranges(g, comm);
  const int64_t width = g.num_features;
  packed.offset = low;
  packed.scale.resize(width);
  std::vector<float> divisor(width);
  for (int64_t f = 0; f < width; ++f) {
    packed.scale[f] = (high[f] - low[f]) / 255.0f;
    // A constant column has step 0: its codes are all 0 and x = offset exactly.
    divisor[f] = packed.scale[f] > 0 ? packed.scale[f] : 1.0f;
  }
  const float* x = g.features.data();
  for_each_chunk(g, /*release=*/true, [&](int64_t first, int64_t count) {
    for_each_row(g, first, count, [&](int64_t v) {
      for (int64_t f = 0; f < width; ++f) {
        const float steps = (x[v * width + f] - low[f]) / divisor[f];
        // Comparisons first: a NaN gets code 0 instead of an undefined cast.
        out[v * width + f] =
            static_cast<uint8_t>(steps > 0 ? (steps < 255 ? std::nearbyint(steps) : 255) : 0);
      }
    });
  });
}

}  // namespace

void compress_features(graph::Graph& g, graph::FeatureDtype dtype, comm::Communicator* comm) {
  if (dtype == graph::FeatureDtype::kFloat32 || !g.has_features) return;
  check(g.packed_features.empty(), "{}: features are already packed", g.name);
  const int64_t bytes = g.num_nodes * g.num_features * graph::feature_dtype_bytes(dtype);
  // Uninitialised: pages become resident only as chunks are written.
  std::shared_ptr<uint8_t[]> storage(new uint8_t[std::max<int64_t>(1, bytes)]);
  graph::PackedFeatures packed;
  packed.dtype = dtype;
  if (dtype == graph::FeatureDtype::kFloat16)
    pack_float16(g, reinterpret_cast<c10::Half*>(storage.get()));
  else
    pack_int8(g, comm, storage.get(), packed);
  const uint8_t* data = storage.get();
  packed.bytes = graph::Buffer<uint8_t>(std::move(storage), data, static_cast<size_t>(bytes));
  g.features = graph::Buffer<float>();
  g.packed_features = std::move(packed);
}

}  // namespace edgegnn::train
