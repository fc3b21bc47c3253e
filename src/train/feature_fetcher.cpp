#include "train/feature_fetcher.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "core/error.h"
#include "train/graph_tensors.h"

namespace edgegnn::train {

namespace {

// Row at(i) of `out` = row from(i) of `in`, for i < count; rows of `row_bytes`.
template <typename From, typename At>
void copy_rows(const std::byte* in, From from, std::byte* out, At at, size_t count,
               int64_t row_bytes) {
  for (size_t i = 0; i < count; ++i)
    std::memcpy(out + at(i) * row_bytes, in + from(i) * row_bytes, row_bytes);
}

// Rows `rows` of `in` to rows `at` of `out`.
void copy_rows(const std::byte* in, std::span<const int64_t> rows, std::byte* out,
               std::span<const int64_t> at, int64_t row_bytes) {
  copy_rows(in, [&](size_t i) { return rows[i]; }, out, [&](size_t i) { return at[i]; },
            rows.size(), row_bytes);
}

// A matrix's stored bytes (a tensor's storage is writable through a const handle).
std::byte* bytes_of(const nn::FeatureMatrix& m) {
  return static_cast<std::byte*>(m.values().data_ptr());
}

}  // namespace

FeatureFetcher::FeatureFetcher(const PartView& view, comm::Communicator& comm, int num_outputs)
    : view_(view), comm_(comm), num_features_(view.part.num_features), outputs_(num_outputs) {
  check(view.part.has_features, "rank {}: its part holds no features", comm.rank());
  check(num_outputs >= 1, "rank {}: a feature fetcher needs an output buffer", comm.rank());
  features_ = borrow_features(view.part);
  row_bytes_ = num_features_ * features_.values().element_size();
}

void FeatureFetcher::fill_cache(std::span<const int32_t> ranked, int64_t bytes) {
  check(bytes >= 0, "--feature-cache: {} bytes is negative", bytes);
  release_cache();
  const size_t keep = std::min<size_t>(ranked.size(), row_bytes_ > 0 ? bytes / row_bytes_ : 0);
  cache_rows_ = features_.empty_like(static_cast<int64_t>(keep));
  // In rounds of a few MiB, so that the rows in transit (sent for others and
  // received) stay small beside the cache; every rank takes as many rounds
  // as the one with the most rows to fetch.
  constexpr int64_t kRoundBytes = 16 << 20;
  const auto round_rows =
      static_cast<size_t>(std::max<int64_t>(1, kRoundBytes / std::max<int64_t>(1, row_bytes_)));
  int64_t rounds = 0;
  for (const auto& theirs : comm_.all_gather({static_cast<int64_t>(keep)}))
    rounds = std::max<int64_t>(rounds, (theirs.at(0) + round_rows - 1) / round_rows);
  for (int64_t round = 0; round < rounds; ++round) {
    std::vector<std::vector<int32_t>> asks(comm_.size());
    std::vector<std::vector<int64_t>> positions(comm_.size());
    for (size_t i = round * round_rows; i < std::min(keep, (round + 1) * round_rows); ++i) {
      const int p = view_.owner(ranked[i]);
      check(p != comm_.rank(), "rank {}: node {} to cache is its own", comm_.rank(), ranked[i]);
      asks[p].push_back(ranked[i]);
      positions[p].push_back(static_cast<int64_t>(i));
    }
    fetch_remote(asks, positions, cache_rows_);
  }
  send_ = {};
  received_ = {};
  cache_row_.reserve(keep);
  for (size_t i = 0; i < keep; ++i) cache_row_.emplace(ranked[i], static_cast<int32_t>(i));
}

void FeatureFetcher::release_cache() {
  cache_row_ = {};
  cache_rows_ = {};
}

torch::Tensor FeatureFetcher::next_output(int64_t num_rows) {
  torch::Tensor& buffer = outputs_[next_output_];
  next_output_ = (next_output_ + 1) % outputs_.size();
  // Grown to the largest batch so far: a board has no memory to spare.
  if (!buffer.defined() || buffer.size(0) < num_rows)
    buffer = torch::empty({num_rows, num_features_}, features_.values().options());
  return buffer.narrow(0, 0, num_rows);
}

void FeatureFetcher::release_buffers() {
  for (torch::Tensor& buffer : outputs_) buffer = torch::Tensor();
  send_ = {};
  received_ = {};
}

nn::FeatureMatrix FeatureFetcher::gather(std::span<const int32_t> nodes) {
  const int me = comm_.rank();
  nn::FeatureMatrix out = features_.like(next_output(static_cast<int64_t>(nodes.size())));
  std::vector<std::vector<int32_t>> asks(comm_.size());
  std::vector<std::vector<int64_t>> positions(comm_.size());
  std::vector<int64_t> own_rows, own_positions, cached_rows, cached_positions;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const int32_t v = nodes[i];
    const int p = view_.owner(v);
    if (p == me) {
      own_rows.push_back(view_.local_row(v));
      own_positions.push_back(static_cast<int64_t>(i));
    } else if (auto cached = cache_row_.find(v); cached != cache_row_.end()) {
      cached_rows.push_back(cached->second);
      cached_positions.push_back(static_cast<int64_t>(i));
    } else {
      asks[p].push_back(v);
      positions[p].push_back(static_cast<int64_t>(i));
    }
  }
  copy_rows(bytes_of(features_), own_rows, bytes_of(out), own_positions, row_bytes_);
  if (cache_filled())
    copy_rows(bytes_of(cache_rows_), cached_rows, bytes_of(out), cached_positions, row_bytes_);
  fetch_remote(asks, positions, out);
  return out;
}

void FeatureFetcher::fetch_remote(const std::vector<std::vector<int32_t>>& asks,
                                  const std::vector<std::vector<int64_t>>& positions,
                                  nn::FeatureMatrix& out) {
  const int size = comm_.size();
  const std::vector<std::vector<int32_t>> asked = comm_.alltoallv_lists(asks);
  std::vector<int64_t> send_counts(size), recv_counts(size);
  std::vector<int64_t> rows, at;
  for (int p = 0; p < size; ++p) {
    send_counts[p] = static_cast<int64_t>(asked[p].size()) * row_bytes_;
    recv_counts[p] = static_cast<int64_t>(asks[p].size()) * row_bytes_;
    for (int32_t v : asked[p]) rows.push_back(view_.local_row(v));
    at.insert(at.end(), positions[p].begin(), positions[p].end());
  }
  // Rows travel as their stored bytes, whatever the dtype.
  const auto send_bytes = static_cast<size_t>(rows.size() * row_bytes_);
  const auto recv_bytes = static_cast<size_t>(at.size() * row_bytes_);
  if (send_.size() < send_bytes) send_.resize(send_bytes);
  if (received_.size() < recv_bytes) received_.resize(recv_bytes);
  auto in_order = [](size_t i) { return static_cast<int64_t>(i); };
  copy_rows(bytes_of(features_), [&](size_t i) { return rows[i]; }, send_.data(), in_order,
            rows.size(), row_bytes_);
  comm_.alltoallv<std::byte>(std::span<const std::byte>(send_.data(), send_bytes), send_counts,
                             std::span<std::byte>(received_.data(), recv_bytes), recv_counts);
  copy_rows(received_.data(), in_order, bytes_of(out), [&](size_t i) { return at[i]; }, at.size(),
            row_bytes_);
}

}  // namespace edgegnn::train
