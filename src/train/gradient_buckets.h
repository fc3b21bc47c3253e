// GradientBuckets: sums a model's gradients across devices in a few fused flat
// buffers (DDP's buckets, Horovod's tensor fusion), overlapped with backward.
//
// A hook on each parameter copies its gradient into its bucket as backward
// produces it; once a bucket holds all of its gradients, its allreduce starts
// while backward goes on with earlier layers. Buckets hold the parameters in
// reverse order, as backward produces them, and the first is small (DDP's
// 1 MiB) so that the last layer's gradients leave early. Buckets start in
// bucket order on every rank, which keeps the ranks' collectives matched; a
// parameter that backward does not reach holds its bucket, and the ones after
// it, until finish().
// finish(), after backward, starts what is left, waits, and writes the sums
// into the parameters' .grad.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <torch/torch.h>

#include "comm/communicator.h"

namespace edgegnn::train {

// DDP's first bucket: small, so the last layer's gradients leave early.
inline constexpr int64_t kFirstGradientBucketBytes = 1 << 20;

class GradientBuckets {
 public:
  // Starts summing `flat` across devices; returns the function that waits
  // for the sum to be in `flat`.
  using StartAllreduce = std::function<std::function<void()>(torch::Tensor& flat)>;

  // Borrows `parameters` and hooks them until destroyed. `progress` runs in
  // every hook (see Communicator::progress).
  GradientBuckets(std::vector<torch::Tensor> parameters, int64_t first_bucket_bytes,
                  int64_t bucket_bytes, StartAllreduce start,
                  std::function<void()> progress = {});
  // Sums across the ranks of `comm` (borrowed), with DDP's small first bucket.
  GradientBuckets(std::vector<torch::Tensor> parameters, int64_t bucket_bytes,
                  comm::Communicator& comm);
  GradientBuckets(const GradientBuckets&) = delete;
  GradientBuckets& operator=(const GradientBuckets&) = delete;
  ~GradientBuckets();

  // After backward: starts the buckets still waiting (a parameter backward did
  // not reach adds zeros), waits for every sum and writes it to .grad.
  void finish();

  size_t num_buckets() const { return buckets_.size(); }
  int64_t num_values() const;
  // Buckets started so far in the current step.
  size_t num_started() const { return pending_.size(); }

 private:
  struct Bucket {
    std::vector<size_t> parameter_indices;
    torch::Tensor flat;
    size_t num_missing = 0;  // gradients not yet copied in this step
  };
  struct Slot {  // where a parameter's gradient lives in its bucket
    size_t bucket = 0;
    int64_t offset = 0;
    bool filled = false;
  };
  void on_gradient(size_t parameter, const torch::Tensor& grad);
  void start_ready_buckets();
  void start(Bucket& bucket);

  std::vector<torch::Tensor> parameters_;
  std::vector<Bucket> buckets_;
  std::vector<Slot> slots_;  // per parameter
  std::vector<unsigned> hooks_;
  StartAllreduce start_;
  std::function<void()> progress_;
  std::vector<std::function<void()>> pending_;  // waits of started buckets, in order
};

}  // namespace edgegnn::train
