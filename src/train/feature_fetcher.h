// FeatureFetcher: the feature rows of any nodes, for a rank that holds only its
// part's. Own rows are read in place; others come from their owners, requested
// with one alltoallv of ids and answered with one of rows.
//
// The feature cache (--feature-cache): fill_cache fetches once the rows of
// the remote nodes a rank's batches will ask for most often (ranked by the
// strategy from sampled batches: SALIENT++'s vertex-inclusion probability,
// not in-degree), and gather() never asks for those again until
// release_cache(). Its map is over the cached nodes only, not all nodes.
//
// Rows are held, sent and cached as the part holds them (--feature-dtype):
// float16 or int8 rows move 2x or ~4x fewer bytes, a cache of SIZE bytes holds
// 2x or 4x more of them, and gather() returns them still compressed, for the
// first layer to read in place. Every rank packs with the same int8 ranges
// (compress_features), so codes mean the same on all of them.
//
// Rows are copied row by row into buffers reused from step to step: fresh
// buffers of ~100 MB a step (Reddit, 4 parts) cost more in page faults than
// the copying, on an emulated board four times more than the link.
//
// gather() is a collective: every rank calls it for every batch, in order.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include <torch/torch.h>

#include "comm/communicator.h"
#include "nn/feature_matrix.h"
#include "train/part_view.h"

namespace edgegnn::train {

class FeatureFetcher {
 public:
  // Borrows `view` and `comm`. `num_outputs`: how many gather() results may
  // be alive at once (a step in use and those made ahead).
  FeatureFetcher(const PartView& view, comm::Communicator& comm, int num_outputs);

  // The rows of `nodes` (global ids), (nodes.size(), num_features), stored as
  // the part's features are. The result is a view of a buffer reused by the
  // num_outputs-th next call: drop it before then.
  nn::FeatureMatrix gather(std::span<const int32_t> nodes);
  // Frees the reused buffers (before evaluation, which needs the memory).
  void release_buffers();

  // A collective. Caches the rows of the first of `ranked` (remote global ids,
  // most wanted first) that `bytes` hold, in place of any cached before.
  void fill_cache(std::span<const int32_t> ranked, int64_t bytes);
  void release_cache();
  bool cache_filled() const { return cache_rows_.values().defined(); }
  int64_t row_bytes() const { return row_bytes_; }

 private:
  // Rows of `nodes` that other ranks own, fetched from them, into `out` at
  // `positions`.
  void fetch_remote(const std::vector<std::vector<int32_t>>& asks,
                    const std::vector<std::vector<int64_t>>& positions, nn::FeatureMatrix& out);
  // The next output buffer, viewed as `num_rows` rows.
  torch::Tensor next_output(int64_t num_rows);

  const PartView& view_;
  comm::Communicator& comm_;
  const int64_t num_features_;
  nn::FeatureMatrix features_;       // this part's rows, borrowed
  int64_t row_bytes_ = 0;                          // bytes of one stored row
  std::unordered_map<int32_t, int32_t> cache_row_;  // cached global id -> cache row
  nn::FeatureMatrix cache_rows_;
  std::vector<torch::Tensor> outputs_;  // gather()'s buffers, used in turn
  size_t next_output_ = 0;
  std::vector<std::byte> send_, received_;
};

}  // namespace edgegnn::train
