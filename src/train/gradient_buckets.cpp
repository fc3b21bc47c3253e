#include "train/gradient_buckets.h"

#include "core/error.h"

namespace edgegnn::train {

GradientBuckets::GradientBuckets(std::vector<torch::Tensor> parameters, int64_t bucket_bytes)
    : parameters_(std::move(parameters)) {
  check(bucket_bytes > 0, "gradient bucket size must be positive");
  // Parameters in reverse order, as backward produces their gradients.
  Bucket current;
  int64_t current_bytes = 0;
  for (size_t k = parameters_.size(); k-- > 0;) {
    const int64_t bytes = parameters_[k].numel() * static_cast<int64_t>(sizeof(float));
    if (!current.parameter_indices.empty() && current_bytes + bytes > bucket_bytes) {
      buckets_.push_back(std::move(current));
      current = Bucket();
      current_bytes = 0;
    }
    current.parameter_indices.push_back(k);
    current_bytes += bytes;
  }
  if (!current.parameter_indices.empty()) buckets_.push_back(std::move(current));
  for (auto& bucket : buckets_) {
    int64_t numel = 0;
    for (size_t k : bucket.parameter_indices) numel += parameters_[k].numel();
    bucket.flat = torch::empty({numel}, torch::kFloat32);
  }
}

int64_t GradientBuckets::num_values() const {
  int64_t n = 0;
  for (const auto& bucket : buckets_) n += bucket.flat.numel();
  return n;
}

void GradientBuckets::reduce(const std::function<void(torch::Tensor& flat)>& allreduce) {
  torch::NoGradGuard no_grad;
  for (auto& bucket : buckets_) {
    int64_t offset = 0;
    for (size_t k : bucket.parameter_indices) {
      const torch::Tensor& grad = parameters_[k].grad();
      check(grad.defined(), "parameter {} has no gradient to reduce", k);
      bucket.flat.narrow(0, offset, grad.numel()).copy_(grad.reshape(-1));
      offset += grad.numel();
    }
    allreduce(bucket.flat);
    offset = 0;
    for (size_t k : bucket.parameter_indices) {
      torch::Tensor grad = parameters_[k].mutable_grad();
      grad.copy_(bucket.flat.narrow(0, offset, grad.numel()).view_as(grad));
      offset += grad.numel();
    }
  }
}

}  // namespace edgegnn::train
