#include "train/gradient_buckets.h"

#include <algorithm>
#include <memory>

#include "core/error.h"

namespace edgegnn::train {

GradientBuckets::GradientBuckets(std::vector<torch::Tensor> parameters, int64_t first_bucket_bytes,
                                 int64_t bucket_bytes, StartAllreduce start,
                                 std::function<void()> progress)
    : parameters_(std::move(parameters)),
      slots_(parameters_.size()),
      start_(std::move(start)),
      progress_(std::move(progress)) {
  check(first_bucket_bytes > 0 && bucket_bytes > 0, "gradient bucket sizes must be positive");
  Bucket current;
  int64_t current_bytes = 0;
  for (size_t k = parameters_.size(); k-- > 0;) {
    const int64_t bytes = parameters_[k].numel() * static_cast<int64_t>(sizeof(float));
    const int64_t cap = buckets_.empty() ? first_bucket_bytes : bucket_bytes;
    if (!current.parameter_indices.empty() && current_bytes + bytes > cap) {
      buckets_.push_back(std::move(current));
      current = Bucket();
      current_bytes = 0;
    }
    slots_[k] = {buckets_.size(), current_bytes / static_cast<int64_t>(sizeof(float)), false};
    current.parameter_indices.push_back(k);
    current_bytes += bytes;
  }
  if (!current.parameter_indices.empty()) buckets_.push_back(std::move(current));
  for (auto& bucket : buckets_) {
    int64_t numel = 0;
    for (size_t k : bucket.parameter_indices) numel += parameters_[k].numel();
    bucket.flat = torch::empty({numel}, torch::kFloat32);
    bucket.num_missing = bucket.parameter_indices.size();
  }
  for (size_t k = 0; k < parameters_.size(); ++k) {
    hooks_.push_back(
        parameters_[k].register_hook([this, k](const torch::Tensor& grad) { on_gradient(k, grad); }));
  }
}

GradientBuckets::GradientBuckets(std::vector<torch::Tensor> parameters, int64_t bucket_bytes,
                                 comm::Communicator& comm)
    : GradientBuckets(
          std::move(parameters), std::min(kFirstGradientBucketBytes, bucket_bytes), bucket_bytes,
          [&comm](torch::Tensor& flat) {
            auto pending = std::make_shared<comm::Communicator::Pending>(
                comm.allreduce_start(std::span<float>(flat.data_ptr<float>(), flat.numel())));
            return std::function<void()>([pending] { pending->wait(); });
          },
          [&comm] { comm.progress(); }) {}

GradientBuckets::~GradientBuckets() {
  for (size_t k = 0; k < parameters_.size(); ++k) parameters_[k].remove_hook(hooks_[k]);
}

int64_t GradientBuckets::num_values() const {
  int64_t n = 0;
  for (const auto& bucket : buckets_) n += bucket.flat.numel();
  return n;
}

void GradientBuckets::on_gradient(size_t parameter, const torch::Tensor& grad) {
  torch::NoGradGuard no_grad;
  Slot& slot = slots_[parameter];
  // Its bucket may have left with the first one already.
  check(!slot.filled,
        "parameter {} received a second gradient before finish(); data-parallel training runs "
        "one backward per step",
        parameter);
  Bucket& bucket = buckets_[slot.bucket];
  bucket.flat.narrow(0, slot.offset, grad.numel()).copy_(grad.reshape(-1));
  slot.filled = true;
  --bucket.num_missing;
  start_ready_buckets();
  if (progress_) progress_();
}

void GradientBuckets::start_ready_buckets() {
  while (pending_.size() < buckets_.size() && buckets_[pending_.size()].num_missing == 0)
    start(buckets_[pending_.size()]);
}

void GradientBuckets::start(Bucket& bucket) {
  pending_.push_back(start_(bucket.flat));
}

void GradientBuckets::finish() {
  torch::NoGradGuard no_grad;
  while (pending_.size() < buckets_.size()) {
    Bucket& bucket = buckets_[pending_.size()];
    for (size_t k : bucket.parameter_indices) {
      if (slots_[k].filled) continue;
      bucket.flat.narrow(0, slots_[k].offset, parameters_[k].numel()).zero_();
    }
    start(bucket);
  }
  for (auto& wait : pending_) wait();
  pending_.clear();
  for (size_t k = 0; k < parameters_.size(); ++k) {
    Slot& slot = slots_[k];
    torch::Tensor sum =
        buckets_[slot.bucket].flat.narrow(0, slot.offset, parameters_[k].numel()).view_as(
            parameters_[k]);
    torch::Tensor& grad = parameters_[k].mutable_grad();
    if (grad.defined()) {
      grad.copy_(sum);
    } else {
      grad = sum.clone();
    }
    slot.filled = false;
  }
  for (auto& bucket : buckets_) bucket.num_missing = bucket.parameter_indices.size();
}

}  // namespace edgegnn::train
