// Mailbox: messages of tensors between the roles of a pipeline, whether they
// run on other ranks (through the Communicator) or on this one (a local queue).
//
// A message is a list of CPU tensors (float32, int32, int64 or uint8; an
// undefined tensor travels as such). It goes as a fixed-size header (dtype and
// shape of each tensor, total bytes) and then one payload with every tensor's
// bytes, both under the message's tag, so messages from one peer with one tag
// arrive in the order sent. Received tensors are views into their payload.
//
// Sends never block: each starts and is kept, with its tensors, until flush().
// So ranks that each run several roles one after another cannot deadlock on a
// send; a recv waits (up to the communicator's timeout) for its message.
#pragma once

#include <deque>
#include <map>
#include <vector>

#include <torch/torch.h>

#include "comm/communicator.h"

namespace edgegnn::comm {

using Message = std::vector<torch::Tensor>;

class Mailbox {
 public:
  explicit Mailbox(Communicator& comm) : comm_(comm) {}
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;
  // Waits for the sends still running (dropping errors: the communicator
  // keeps them).
  ~Mailbox();

  int rank() const { return comm_.rank(); }

  // Sends `message` to `peer` (this rank included) under `tag` >= 0.
  void send(int peer, int tag, Message message);
  // The next message from `peer` under `tag`. From this rank, it must have
  // been sent already.
  Message recv(int peer, int tag);
  // Waits until every started send has left.
  void flush();
  // Seconds spent waiting in recv and flush for other ranks.
  double wait_seconds() const { return wait_seconds_; }

 private:
  struct Outgoing {
    std::vector<int64_t> header;
    torch::Tensor payload;  // the one tensor with bytes, or a packed copy of them
    std::vector<Communicator::Pending> sends;
  };

  Communicator& comm_;
  std::deque<Outgoing> outgoing_;
  std::map<int, std::deque<Message>> local_;  // by tag
  double wait_seconds_ = 0;
};

}  // namespace edgegnn::comm
