// Buffer<T>: a typed, contiguous array that either owns its storage (a vector
// moved in) or borrows a read-only memory mapping kept alive by a shared handle.
// Graph arrays are Buffers so that a graph read from the binary format costs no
// copy, while readers and the generator can still build arrays in memory.
//
// Move-only, like every owner of a large array. Views (span()) are valid while the
// Buffer lives. Not thread-safe for mutation; concurrent reads are fine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/error.h"

namespace edgegnn::graph {

template <typename T>
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(std::vector<T> values)
      : owned_(std::make_shared<std::vector<T>>(std::move(values))),
        data_(owned_->data()),
        size_(owned_->size()) {}
  // Borrows `size` elements at `data`, kept alive by `keeper` (e.g. a mapping).
  Buffer(std::shared_ptr<const void> keeper, const T* data, size_t size)
      : keeper_(std::move(keeper)), data_(data), size_(size) {}

  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&&) noexcept = default;
  Buffer& operator=(Buffer&&) noexcept = default;

  const T* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T& operator[](size_t i) const { return data_[i]; }
  std::span<const T> span() const { return {data_, size_}; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }

  // Writable view; only owned buffers can be written (mappings are read-only).
  std::span<T> mutable_span() {
    check(owned_ != nullptr || size_ == 0, "cannot write to a memory-mapped array");
    return owned_ ? std::span<T>(*owned_) : std::span<T>();
  }

  bool is_mapped() const { return keeper_ != nullptr; }
  // Bytes this buffer accounts for (mapped bytes count too: they become resident
  // as soon as they are read).
  size_t memory_bytes() const { return size_ * sizeof(T); }

 private:
  std::shared_ptr<std::vector<T>> owned_;
  std::shared_ptr<const void> keeper_;
  const T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace edgegnn::graph
