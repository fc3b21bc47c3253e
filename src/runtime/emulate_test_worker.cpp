// One worker of emulate_tests, started by launch_local (RANK, WORLD_SIZE,
// MASTER_ADDR and MASTER_PORT set):
//
//   emulate_test_worker transfer MIB   rank 0 sends MIB MiB to rank 1 over a
//                                      gloo Communicator; rank 1 prints
//                                      "received <bytes> bytes in <s> s"
//   emulate_test_worker touch LIST S   rank k touches entry k of LIST (MiB,
//                                      comma-separated), then sleeps S s
//
// Exits 0, or 2 with "error: <Error>" when a call throws.
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "comm/communicator.h"
#include "core/error.h"

namespace edgegnn {
namespace {

int env_int(const char* name) {
  const char* value = std::getenv(name);
  check(value != nullptr, "{} is not set", name);
  return std::atoi(value);
}

void transfer(int64_t bytes) {
  comm::CommOptions options;
  options.rank = env_int("RANK");
  options.size = env_int("WORLD_SIZE");
  options.master_addr = std::getenv("MASTER_ADDR");
  options.master_port = env_int("MASTER_PORT");
  options.timeout = std::chrono::seconds(30);
  const std::unique_ptr<comm::Communicator> comm = comm::make_communicator(options);
  std::vector<std::byte> buffer(bytes, std::byte{1});
  // The barrier lines both ranks up, so the receiver times the transfer alone.
  comm->barrier();
  const auto start = std::chrono::steady_clock::now();
  if (comm->rank() == 0) comm->send(buffer, /*peer=*/1, /*tag=*/1);
  if (comm->rank() == 1) comm->recv(buffer, /*peer=*/0, /*tag=*/1);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  comm->barrier();
  if (comm->rank() == 1) fmt::print("received {} bytes in {:.3f} s\n", bytes, seconds);
}

void touch(const std::string& list, double hold_seconds) {
  std::vector<int64_t> mib_per_rank;
  std::istringstream items(list);
  for (std::string item; std::getline(items, item, ',');) mib_per_rank.push_back(std::stoll(item));
  std::vector<char> block(mib_per_rank.at(env_int("RANK")) << 20);
  std::memset(block.data(), 1, block.size());
  asm volatile("" : : "r"(block.data()) : "memory");  // keep the pages touched
  std::this_thread::sleep_for(std::chrono::duration<double>(hold_seconds));
}

}  // namespace
}  // namespace edgegnn

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 2 && args[0] == "transfer")
      edgegnn::transfer(std::stoll(args[1]) << 20);
    else if (args.size() == 3 && args[0] == "touch")
      edgegnn::touch(args[1], std::stod(args[2]));
    else
      edgegnn::fail("usage: emulate_test_worker transfer MIB | touch LIST SECONDS");
  } catch (const edgegnn::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  }
  return 0;
}
