// FeatureFetcher: the feature rows of any nodes, for a rank that holds only its
// part's. Own rows are read in place; others come from their owners, requested
// with one alltoallv of ids and answered with one of rows.
//
// The feature cache (--feature-cache SIZE): at start, a rank fetches once the
// rows of the remote nodes its part's in-edges reach most often (the remote
// sources with the most in-edges into the part, as far as SIZE holds), and
// never asks for those again.
//
// gather() is a collective: every rank calls it for every batch, in order.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <torch/torch.h>

#include "comm/communicator.h"
#include "train/part_view.h"

namespace edgegnn::train {

class FeatureFetcher {
 public:
  // A collective (fills the cache). Borrows `view` and `comm`.
  FeatureFetcher(const PartView& view, comm::Communicator& comm, int64_t cache_bytes);

  // The rows of `nodes` (global ids), float32 (nodes.size(), num_features).
  torch::Tensor gather(std::span<const int32_t> nodes);

 private:
  // Rows of `nodes` that other ranks own, fetched from them, into `out` at
  // `positions`.
  void fetch_remote(const std::vector<std::vector<int32_t>>& asks,
                    const std::vector<std::vector<int64_t>>& positions, torch::Tensor& out);

  const PartView& view_;
  comm::Communicator& comm_;
  const int64_t num_features_;
  torch::Tensor features_;           // this part's rows, borrowed
  std::vector<int32_t> cache_slot_;  // global id -> cache row, -1 if not cached
  torch::Tensor cache_rows_;
};

}  // namespace edgegnn::train
