#include "comm/mailbox.h"

#include <chrono>
#include <cstring>

#include "core/clock.h"
#include "core/error.h"

namespace edgegnn::comm {
namespace {

// Header: [num_tensors, payload bytes, then per tensor: dtype code (-1 = undefined), ndim,
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

// Tensors start at 8-byte offsets in the payload, so every view is aligned.
int64_t aligned(int64_t offset) { return (offset + 7) / 8 * 8; }

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
  out.header.push_back(0);  // payload bytes, filled in below
  std::vector<int64_t> offsets;
  int64_t payload_bytes = 0;
  const torch::Tensor* only = nullptr;  // the one tensor with bytes, if just one has
  int with_bytes = 0;
  for (torch::Tensor& t : message) {
    if (t.defined()) t = t.contiguous();
    out.header.push_back(dtype_code(t));
    out.header.push_back(t.defined() ? t.dim() : 0);
    if (t.defined())
      for (int64_t d : t.sizes()) out.header.push_back(d);
    payload_bytes = aligned(payload_bytes);
    offsets.push_back(payload_bytes);
    if (t.defined() && t.nbytes() > 0) {
      payload_bytes += static_cast<int64_t>(t.nbytes());
      only = &t;
      ++with_bytes;
    }
  }
  check(static_cast<int64_t>(out.header.size()) <= kHeaderValues,
        "mailbox: a message of {} tensors has too large a header", message.size());
  out.header[1] = payload_bytes;
  out.header.resize(kHeaderValues, 0);
  // One send for the header and one for all the bytes: each send is a round
  // trip through the backend, which costs more than copying small tensors.
  if (with_bytes > 1) {
    out.payload = torch::empty({payload_bytes}, torch::kUInt8);
    auto* base = static_cast<std::byte*>(out.payload.data_ptr());
    for (size_t k = 0; k < message.size(); ++k) {
      const torch::Tensor& t = message[k];
      if (t.defined() && t.nbytes() > 0) std::memcpy(base + offsets[k], t.data_ptr(), t.nbytes());
    }
  } else if (with_bytes == 1) {
    out.payload = *only;
  }
  out.sends.push_back(
      comm_.send_start(std::as_bytes(std::span<const int64_t>(out.header)), peer, tag));
  if (with_bytes > 0) out.sends.push_back(comm_.send_start(bytes_of(out.payload), peer, tag));
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
  const int64_t count = header[0], payload_bytes = header[1];
  auto bad_header = [&] {
    return fmt::format("rank {}: mailbox: bad header from rank {}", rank(), peer);
  };
  check(count >= 0 && count < kHeaderValues && payload_bytes >= 0, "{}", bad_header());
  torch::Tensor payload = torch::empty({payload_bytes}, torch::kUInt8);
  if (payload_bytes > 0) comm_.recv(bytes_of(payload), peer, tag);
  auto* base = static_cast<std::byte*>(payload.data_ptr());
  Message message;
  size_t at = 2;
  int64_t offset = 0;
  for (int64_t k = 0; k < count; ++k) {
    check(at + 2 <= header.size(), "{}", bad_header());
    const int64_t code = header[at++], ndim = header[at++];
    check(ndim >= 0 && at + ndim <= header.size(), "{}", bad_header());
    offset = aligned(offset);
    if (code < 0) {
      message.emplace_back();
      continue;
    }
    std::vector<int64_t> shape(header.begin() + at, header.begin() + at + ndim);
    at += ndim;
    const auto options = torch::TensorOptions().dtype(dtype_of(code));
    const int64_t bytes =
        c10::multiply_integers(shape) * static_cast<int64_t>(c10::elementSize(dtype_of(code)));
    check(offset + bytes <= payload_bytes, "{}", bad_header());
    // A view into the payload, which lives as long as any of its tensors.
    message.push_back(torch::from_blob(
        base + offset, shape, [payload](void*) {}, options));
    offset += bytes;
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
