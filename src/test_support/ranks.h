// on_ranks: a multi-rank test body run on threads, each rank with its own gloo
// communicator on loopback. For tests that link edgegnn_torch.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "comm/communicator.h"
#include "runtime/launcher.h"

namespace edgegnn::test {

// Runs `body(rank, comm)` on `ranks` threads and fails the test with each
// rank's error, if any.
inline void on_ranks(int ranks, const std::function<void(int, comm::Communicator&)>& body) {
  // Asked of the OS: ctest runs test processes side by side.
  const int port = runtime::find_free_port("127.0.0.1");
  std::vector<std::thread> threads;
  std::vector<std::string> errors(ranks);
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      try {
        comm::CommOptions options;
        options.backend = "gloo";
        options.rank = r;
        options.size = ranks;
        options.master_port = port;
        options.timeout = std::chrono::milliseconds(60000);
        std::unique_ptr<comm::Communicator> comm = comm::make_communicator(options);
        body(r, *comm);
      } catch (const std::exception& e) {
        errors[r] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (int r = 0; r < ranks; ++r) EXPECT_EQ(errors[r], "") << "rank " << r;
}

}  // namespace edgegnn::test
