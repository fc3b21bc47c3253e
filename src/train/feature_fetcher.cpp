#include "train/feature_fetcher.h"

#include <algorithm>
#include <unordered_map>

#include "core/error.h"
#include "train/graph_tensors.h"

namespace edgegnn::train {

FeatureFetcher::FeatureFetcher(const PartView& view, comm::Communicator& comm)
    : view_(view), comm_(comm), num_features_(view.part.num_features) {
  check(view.part.has_features, "rank {}: its part holds no features", comm.rank());
  features_ = borrow_features(view.part);
  row_bytes_ = num_features_ * features_.values().element_size();
}

void FeatureFetcher::fill_cache(std::span<const int32_t> ranked, int64_t bytes) {
  check(bytes >= 0, "--feature-cache: {} bytes is negative", bytes);
  release_cache();
  const size_t keep = std::min<size_t>(ranked.size(), row_bytes_ > 0 ? bytes / row_bytes_ : 0);
  std::vector<std::vector<int32_t>> asks(comm_.size());
  std::vector<std::vector<int64_t>> positions(comm_.size());
  for (size_t i = 0; i < keep; ++i) {
    const int p = view_.owner(ranked[i]);
    check(p != comm_.rank(), "rank {}: node {} to cache is its own", comm_.rank(), ranked[i]);
    asks[p].push_back(ranked[i]);
    positions[p].push_back(static_cast<int64_t>(i));
  }
  cache_rows_ = features_.empty_like(static_cast<int64_t>(keep));
  fetch_remote(asks, positions, cache_rows_);
  cache_row_.reserve(keep);
  for (size_t i = 0; i < keep; ++i) cache_row_.emplace(ranked[i], static_cast<int32_t>(i));
}

void FeatureFetcher::release_cache() {
  cache_row_ = {};
  cache_rows_ = {};
}

nn::FeatureMatrix FeatureFetcher::gather(std::span<const int32_t> nodes) {
  const int me = comm_.rank();
  nn::FeatureMatrix out = features_.empty_like(static_cast<int64_t>(nodes.size()));
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
  auto copy_rows = [&](const nn::FeatureMatrix& from, std::vector<int64_t>& rows,
                       std::vector<int64_t>& at) {
    if (rows.empty()) return;
    out.values().index_copy_(
        0, torch::from_blob(at.data(), {static_cast<int64_t>(at.size())}, torch::kInt64),
        from.values().index_select(
            0, torch::from_blob(rows.data(), {static_cast<int64_t>(rows.size())}, torch::kInt64)));
  };
  copy_rows(features_, own_rows, own_positions);
  if (cache_filled()) copy_rows(cache_rows_, cached_rows, cached_positions);
  fetch_remote(asks, positions, out);
  return out;
}

void FeatureFetcher::fetch_remote(const std::vector<std::vector<int32_t>>& asks,
                                  const std::vector<std::vector<int64_t>>& positions,
                                  nn::FeatureMatrix& out) {
  const int size = comm_.size();
  const std::vector<std::vector<int32_t>> asked = comm_.alltoallv_lists(asks);
  std::vector<int64_t> send_counts(size), recv_counts(size);
  std::vector<int64_t> rows;
  int64_t num_received = 0;
  for (int p = 0; p < size; ++p) {
    send_counts[p] = static_cast<int64_t>(asked[p].size()) * row_bytes_;
    recv_counts[p] = static_cast<int64_t>(asks[p].size()) * row_bytes_;
    num_received += static_cast<int64_t>(asks[p].size());
    for (int32_t v : asked[p]) rows.push_back(view_.local_row(v));
  }
  // Rows travel as their stored bytes, whatever the dtype.
  torch::Tensor send = features_.values().index_select(
      0, torch::from_blob(rows.data(), {static_cast<int64_t>(rows.size())}, torch::kInt64));
  torch::Tensor received = torch::empty({num_received, num_features_}, send.options());
  comm_.alltoallv<std::byte>(
      std::span<const std::byte>(static_cast<const std::byte*>(send.data_ptr()), send.nbytes()),
      send_counts,
      std::span<std::byte>(static_cast<std::byte*>(received.data_ptr()), received.nbytes()),
      recv_counts);
  std::vector<int64_t> at;
  for (int p = 0; p < size; ++p) at.insert(at.end(), positions[p].begin(), positions[p].end());
  if (at.empty()) return;
  out.values().index_copy_(
      0, torch::from_blob(at.data(), {static_cast<int64_t>(at.size())}, torch::kInt64), received);
}

}  // namespace edgegnn::train
