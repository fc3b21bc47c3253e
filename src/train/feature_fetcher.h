// FeatureFetcher: the feature rows of any nodes, for a rank that holds only its
// part's. Own rows are read in place; others come from their owners, requested
// with one alltoallv of ids and answered with one of rows, received straight
// into the buffer the first layer reads. Nothing is copied into a batch-sized
// input: gather() hands out one stacked table of the part's rows, the cache's
// and the fetched ones, and where each node's row is in it (Reddit, 4 parts,
// float32: 265 MB of gathered input a step no longer exists, which leaves a
// 1 GiB board room for a cache twice as large).
//
// The feature cache (--feature-cache) holds the rows of the remote nodes a
// rank's batches will ask for most often (ranked by the strategy from sampled
// batches: SALIENT++'s vertex-inclusion probability, not in-degree). It fills
// itself: a row is kept the first time a batch fetches it, and never asked
// for again until release_cache(). So filling costs no transfer (nor wait)
// of its own, and rows ranked but never drawn are never fetched. Its map is
// over the cached nodes only, not all nodes.
//
// Rows are held, sent and cached as the part holds them (--feature-dtype):
// float16 or int8 rows move 2x or ~4x fewer bytes, a cache of SIZE bytes holds
// 2x or 4x more of them, and the first layer reads them still compressed.
// Every rank packs with the same int8 ranges (compress_features), so codes
// mean the same on all of them.
//
// Fetched rows land in buffers reused from step to step: fresh buffers of
// ~100 MB a step (Reddit, 4 parts) cost more in page faults than the copying,
// on an emulated board four times more than the link. A buffer shrinks when a
// step needs far less of it (the first steps, with the cache still filling,
// fetch several times what later ones do).
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

  // The rows of some nodes, where they lie: node i's is row rows[i] of
  // `table` (stacked: this part's rows, the cache's, then the fetched ones).
  struct Gathered {
    nn::FeatureMatrix table;
    std::vector<int32_t> rows;
  };
  // The rows of `nodes` (global ids), stored as the part's features are. The
  // fetched ones are in a buffer reused by the num_outputs-th next call: drop
  // the table before then.
  Gathered gather(std::span<const int32_t> nodes);
  // Frees the reused buffers (before evaluation, which needs the memory).
  void release_buffers();

  // Sets `bytes` aside for the rows of the first of `ranked` (remote global
  // ids, most wanted first), in place of any cache before; gather() fills it.
  void reserve_cache(std::span<const int32_t> ranked, int64_t bytes);
  void release_cache();
  bool has_cache() const { return cache_rows_.values().defined(); }
  int64_t row_bytes() const { return row_bytes_; }

 private:
  // The rows of asks[p] (nodes rank p owns), fetched from their owners into
  // consecutive rows at `into`, asks[0]'s first.
  void fetch_remote(const std::vector<std::vector<int32_t>>& asks, std::byte* into);
  // The next output buffer, viewed as `num_rows` rows.
  torch::Tensor next_output(int64_t num_rows);

  const PartView& view_;
  comm::Communicator& comm_;
  const int64_t num_features_;
  nn::FeatureMatrix features_;       // this part's rows, borrowed
  int64_t row_bytes_ = 0;                          // bytes of one stored row
  std::unordered_map<int32_t, int32_t> cache_row_;  // global id to cache -> cache row
  std::vector<bool> cache_row_filled_;
  nn::FeatureMatrix cache_rows_;
  std::vector<torch::Tensor> outputs_;  // gather()'s buffers, used in turn
  size_t next_output_ = 0;
  std::vector<std::byte> send_;  // own rows others asked for
};

}  // namespace edgegnn::train
