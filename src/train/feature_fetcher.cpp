#include "train/feature_fetcher.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "core/error.h"
#include "train/graph_tensors.h"

namespace edgegnn::train {

namespace {

// Rows `rows` of `in`, one after another into `out`; rows of `row_bytes`.
void pack_rows(const std::byte* in, std::span<const int64_t> rows, std::byte* out,
               int64_t row_bytes) {
  for (size_t i = 0; i < rows.size(); ++i)
    std::memcpy(out + i * row_bytes, in + rows[i] * row_bytes, row_bytes);
}

// Whether a reused buffer of `have` bytes is made anew for `need`: when
// short, or four times too large (the first steps' fetches, with the cache
// still filling, are several times later ones'). Made anew, it gets a
// quarter to spare, so that steps' sizes swaying do not remake it.
bool remake(int64_t have, int64_t need) { return have < need || have > 4 * need + (8 << 20); }
int64_t with_room(int64_t need) { return need + need / 4; }

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

void FeatureFetcher::reserve_cache(std::span<const int32_t> ranked, int64_t bytes) {
  check(bytes >= 0, "--feature-cache: {} bytes is negative", bytes);
  release_cache();
  const size_t keep = std::min<size_t>(ranked.size(), row_bytes_ > 0 ? bytes / row_bytes_ : 0);
  cache_rows_ = features_.empty_like(static_cast<int64_t>(keep));
  cache_row_filled_.assign(keep, false);
  cache_row_.reserve(keep);
  for (size_t i = 0; i < keep; ++i) {
    check(view_.owner(ranked[i]) != comm_.rank(), "rank {}: node {} to cache is its own",
          comm_.rank(), ranked[i]);
    cache_row_.emplace(ranked[i], static_cast<int32_t>(i));
  }
}

void FeatureFetcher::release_cache() {
  cache_row_ = {};
  cache_row_filled_ = {};
  cache_rows_ = {};
}

torch::Tensor FeatureFetcher::next_output(int64_t num_rows) {
  torch::Tensor& buffer = outputs_[next_output_];
  next_output_ = (next_output_ + 1) % outputs_.size();
  if (!buffer.defined() || remake(buffer.size(0) * row_bytes_, num_rows * row_bytes_))
    buffer = torch::empty({with_room(num_rows), num_features_}, features_.values().options());
  return buffer.narrow(0, 0, num_rows);
}

void FeatureFetcher::release_buffers() {
  for (torch::Tensor& buffer : outputs_) buffer = torch::Tensor();
  send_ = {};
}

FeatureFetcher::Gathered FeatureFetcher::gather(std::span<const int32_t> nodes) {
  const int me = comm_.rank();
  const int64_t own = features_.num_rows();
  const int64_t cached = has_cache() ? cache_rows_.num_rows() : 0;
  Gathered out;
  out.rows.resize(nodes.size());
  std::vector<std::vector<int32_t>> asks(comm_.size()), positions(comm_.size());
  std::vector<std::vector<int32_t>> keep_in(comm_.size());  // per ask: its cache row, or -1
  for (size_t i = 0; i < nodes.size(); ++i) {
    const int32_t v = nodes[i];
    const int p = view_.owner(v);
    if (p == me) {
      out.rows[i] = static_cast<int32_t>(view_.local_row(v));
      continue;
    }
    const auto hit = cache_row_.find(v);
    const int32_t slot = hit == cache_row_.end() ? -1 : hit->second;
    if (slot >= 0 && cache_row_filled_[slot]) {
      out.rows[i] = static_cast<int32_t>(own + slot);
    } else {
      asks[p].push_back(v);
      positions[p].push_back(static_cast<int32_t>(i));
      keep_in[p].push_back(slot);
    }
  }
  // Fetched rows arrive owner by owner, after the part's and the cache's.
  auto next = static_cast<int32_t>(own + cached);
  for (const auto& at : positions)
    for (int32_t i : at) out.rows[i] = next++;
  nn::FeatureMatrix fetched = features_.like(next_output(next - own - cached));
  fetch_remote(asks, bytes_of(fetched));
  // Rows the cache wants are kept as they arrive. Steps made earlier read
  // other cache rows only, so this thread writes none that they read.
  int64_t k = 0;
  for (const auto& slots : keep_in)
    for (int32_t slot : slots) {
      if (slot >= 0) {
        std::memcpy(bytes_of(cache_rows_) + slot * row_bytes_, bytes_of(fetched) + k * row_bytes_,
                    row_bytes_);
        cache_row_filled_[slot] = true;
      }
      ++k;
    }
  std::vector<nn::FeatureMatrix> parts{features_};
  if (cached > 0) parts.push_back(cache_rows_);
  parts.push_back(fetched);
  out.table = nn::FeatureMatrix::stacked(parts);
  return out;
}

void FeatureFetcher::fetch_remote(const std::vector<std::vector<int32_t>>& asks, std::byte* into) {
  const int size = comm_.size();
  const std::vector<std::vector<int32_t>> asked = comm_.alltoallv_lists(asks);
  std::vector<int64_t> send_counts(size), recv_counts(size);
  std::vector<int64_t> rows;
  int64_t recv_rows = 0;
  for (int p = 0; p < size; ++p) {
    send_counts[p] = static_cast<int64_t>(asked[p].size()) * row_bytes_;
    recv_counts[p] = static_cast<int64_t>(asks[p].size()) * row_bytes_;
    recv_rows += static_cast<int64_t>(asks[p].size());
    for (int32_t v : asked[p]) rows.push_back(view_.local_row(v));
  }
  // Rows travel as their stored bytes, whatever the dtype.
  const auto send_bytes = static_cast<size_t>(rows.size() * row_bytes_);
  if (remake(static_cast<int64_t>(send_.size()), static_cast<int64_t>(send_bytes)))
    send_ = std::vector<std::byte>(with_room(static_cast<int64_t>(send_bytes)));
  pack_rows(bytes_of(features_), rows, send_.data(), row_bytes_);
  comm_.alltoallv<std::byte>(std::span<const std::byte>(send_.data(), send_bytes), send_counts,
                             std::span<std::byte>(into, static_cast<size_t>(recv_rows * row_bytes_)),
                             recv_counts);
}

}  // namespace edgegnn::train
