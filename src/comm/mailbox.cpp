#include "comm/mailbox.h"

#include <chrono>

#include "core/clock.h"
#include "core/error.h"

namespace edgegnn::comm {
namespace {

// Header: [num_tensors, then per tensor: dtype code (-1 = undefined), ndim,
// dims...], zero-padded to a fixed size so the receiver knows what to expect.
constexpr int64_t kHeaderValues = 64;

int64_t dtype_code(const torch::Tensor& t) {
  if (!t.defined()) return -1;
  switch (t.scalar_type()) {
    case torch::kFloat32:
      return 0;
    case torch::kInt32:
      return 1;
    case torch::kInt64:
      return 2;
    case torch::kUInt8:
      return 3;
    default:
      fail("mailbox: cannot send a tensor of dtype {}", c10::toString(t.scalar_type()));
  }
}

torch::ScalarType dtype_of(int64_t code) {
  constexpr torch::ScalarType types[] = {torch::kFloat32, torch::kInt32, torch::kInt64,
                                         torch::kUInt8};
  check(code >= 0 && code < 4, "mailbox: received an unknown dtype code {}", code);
  return types[code];
}

std::span<std::byte> bytes_of(const torch::Tensor& t) {
  return {static_cast<std::byte*>(t.data_ptr()), t.nbytes()};
}

}  // namespace

Mailbox::~Mailbox() {
  try {
    flush();
  } catch (const std::exception&) {
    // Already failed: the communicator reports it on its next call.
  }
}

void Mailbox::send(int peer, int tag, Message message) {
  if (peer == rank()) {
    local_[tag].push_back(std::move(message));
    return;
  }
  Outgoing out;
  out.header.push_back(static_cast<int64_t>(message.size()));
  for (torch::Tensor& t : message) {
    if (t.defined()) t = t.contiguous();
    out.header.push_back(dtype_code(t));
    out.header.push_back(t.defined() ? t.dim() : 0);
    if (t.defined())
      for (int64_t d : t.sizes()) out.header.push_back(d);
  }
  check(static_cast<int64_t>(out.header.size()) <= kHeaderValues,
        "mailbox: a message of {} tensors has too large a header", message.size());
  out.header.resize(kHeaderValues, 0);
  out.message = std::move(message);
  out.sends.push_back(comm_.send_start(
      std::as_bytes(std::span<const int64_t>(out.header)), peer, tag));
  for (const torch::Tensor& t : out.message) {
    if (t.defined() && t.nbytes() > 0) out.sends.push_back(comm_.send_start(bytes_of(t), peer, tag));
  }
  outgoing_.push_back(std::move(out));
}

Message Mailbox::recv(int peer, int tag) {
  if (peer == rank()) {
    auto& queue = local_[tag];
    check(!queue.empty(), "rank {}: mailbox: no message with tag {} from this rank", rank(), tag);
    Message message = std::move(queue.front());
    queue.pop_front();
    return message;
  }
  const auto start = Clock::now();
  std::vector<int64_t> header(kHeaderValues);
  comm_.recv(std::as_writable_bytes(std::span<int64_t>(header)), peer, tag);
  const int64_t count = header[0];
  check(count >= 0 && count < kHeaderValues, "rank {}: mailbox: bad header from rank {}", rank(),
        peer);
  Message message;
  size_t at = 1;
  for (int64_t k = 0; k < count; ++k) {
    check(at + 2 <= header.size(), "rank {}: mailbox: bad header from rank {}", rank(), peer);
    const int64_t code = header[at++], ndim = header[at++];
    check(ndim >= 0 && at + ndim <= header.size(), "rank {}: mailbox: bad header from rank {}",
          rank(), peer);
    if (code < 0) {
      message.emplace_back();
      continue;
    }
    std::vector<int64_t> shape(header.begin() + at, header.begin() + at + ndim);
    at += ndim;
    torch::Tensor t = torch::empty(shape, dtype_of(code));
    if (t.nbytes() > 0) comm_.recv(bytes_of(t), peer, tag);
    message.push_back(t);
  }
  wait_seconds_ += seconds_since(start);
  return message;
}

void Mailbox::flush() {
  const auto start = Clock::now();
  while (!outgoing_.empty()) {
    for (auto& pending : outgoing_.front().sends) pending.wait();
    outgoing_.pop_front();
  }
  wait_seconds_ += seconds_since(start);
}

}  // namespace edgegnn::comm
