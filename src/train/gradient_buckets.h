// GradientBuckets: a model's gradients fused into a few flat buffers of at most
// `bucket_bytes` each (DDP's 25 MB buckets, Horovod's tensor fusion), so that
// averaging them across devices is a few large allreduces, not one per tensor.
//
// reduce() copies every gradient into its bucket, calls `allreduce` on each
// bucket in turn, and copies the results back. The buckets are allocated once.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <torch/torch.h>

namespace edgegnn::train {

class GradientBuckets {
 public:
  // Borrows `parameters` (their .grad must be defined when reduce() runs).
  GradientBuckets(std::vector<torch::Tensor> parameters, int64_t bucket_bytes);

  void reduce(const std::function<void(torch::Tensor& flat)>& allreduce);

  size_t num_buckets() const { return buckets_.size(); }
  int64_t num_values() const;

 private:
  struct Bucket {
    std::vector<size_t> parameter_indices;
    torch::Tensor flat;
  };
  std::vector<torch::Tensor> parameters_;
  std::vector<Bucket> buckets_;
};

}  // namespace edgegnn::train
