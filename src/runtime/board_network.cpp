#include "runtime/board_network.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/error.h"
#include "runtime/board.h"
#include "runtime/run_tool.h"

namespace edgegnn::runtime {
namespace fs = std::filesystem;
namespace {

const fs::path kNetnsDir = "/run/netns";  // where `ip netns add` puts its names

// Whether `name` is edgegnn-<pid>-... and, if so, its launcher pid.
int owner_of(const std::string& name) {
  int pid = 0, length = 0;
  if (std::sscanf(name.c_str(), "edgegnn-%d-%n", &pid, &length) != 1 || length == 0) return 0;
  return pid;
}

}  // namespace

void check_board_network_privileges(const std::string& flag) {
  // CapEff is a hex mask; CAP_NET_ADMIN is bit 12, CAP_SYS_ADMIN bit 21.
  std::ifstream status("/proc/self/status");
  uint64_t effective = 0;
  for (std::string key; status >> key;)
    if (key == "CapEff:") status >> std::hex >> effective;
  const bool net_admin = effective & (uint64_t{1} << 12);
  const bool sys_admin = effective & (uint64_t{1} << 21);
  check(net_admin && sys_admin,
        "{}: emulating boards needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN, to create network "
        "namespaces and memory cgroups), which this process (uid {}) lacks; run as root, or drop "
        "{} to run the workers on loopback without board limits",
        flag, ::geteuid(), flag);
}

BoardNetwork::BoardNetwork(int owner_pid, const std::vector<int64_t>& link_bits_per_second,
                           const std::string& flag)
    : prefix_(fmt::format("edgegnn-{}", owner_pid)),
      num_boards_(static_cast<int>(link_bits_per_second.size())) {
  // One /24 leaves .1 to .253 for boards, .254 for the console.
  check(num_boards_ >= 1 && num_boards_ <= 253, "{}: {} boards; emulation supports 1 to 253", flag,
        num_boards_);
  const std::string switch_ns = switch_namespace_name();
  auto run = [&](std::vector<std::string> args) {
    const std::string error = run_tool(args);
    if (error.empty()) return;
    remove();
    fail(
        "{}: cannot set up the boards' network: {} (network namespaces, veth, bridge and tc tbf "
        "are needed; drop {} to run the workers on loopback)",
        flag, error, flag);
  };
  auto add_namespace = [&](const std::string& name) {
    run({"ip", "netns", "add", name});
    created_.push_back(name);
  };
  add_namespace(switch_ns);
  run({"ip", "-n", switch_ns, "link", "add", "br0", "type", "bridge"});
  run({"ip", "-n", switch_ns, "link", "set", "br0", "up"});
  run({"ip", "-n", switch_ns, "address", "add", std::string(kConsoleAddress) + "/24", "dev", "br0"});
  for (int k = 0; k < num_boards_; ++k) {
    const std::string board_ns = namespace_name(k), port = fmt::format("rank{}", k);
    // tbf's bucket holds 2 ms at the link rate (at least 32 KiB, above one
    // full-sized frame burst at any rate); a packet that would queue longer
    // than 20 ms is dropped, as a switch with shallow buffers would.
    const std::string rate = format_link_rate(link_bits_per_second[k]);
    const std::string burst =
        std::to_string(std::max<int64_t>(link_bits_per_second[k] / 8 / 500, 32 << 10));
    const std::vector<std::string> tbf = {"root",  "tbf", "rate",    rate,
                                          "burst", burst, "latency", "20ms"};
    add_namespace(board_ns);
    run({"ip", "-n", switch_ns, "link", "add", port, "type", "veth", "peer", "name", "eth0",
         "netns", board_ns});
    run({"ip", "-n", switch_ns, "link", "set", port, "master", "br0", "up"});
    run({"ip", "-n", board_ns, "address", "add", address(k) + "/24", "dev", "eth0"});
    run({"ip", "-n", board_ns, "link", "set", "eth0", "up"});
    run({"ip", "-n", board_ns, "link", "set", "lo", "up"});
    std::vector<std::string> shape_send = {"tc", "-n", board_ns, "qdisc", "add", "dev", "eth0"};
    std::vector<std::string> shape_receive = {"tc", "-n", switch_ns, "qdisc", "add", "dev", port};
    shape_send.insert(shape_send.end(), tbf.begin(), tbf.end());
    shape_receive.insert(shape_receive.end(), tbf.begin(), tbf.end());
    run(shape_send);
    run(shape_receive);
  }
}

std::string BoardNetwork::address(int rank) const { return fmt::format("10.213.0.{}", rank + 1); }

std::string BoardNetwork::switch_namespace_name() const { return prefix_ + "-switch"; }

std::string BoardNetwork::namespace_name(int rank) const {
  return fmt::format("{}-rank{}", prefix_, rank);
}

fs::path BoardNetwork::namespace_path(int rank) const { return kNetnsDir / namespace_name(rank); }

bool BoardNetwork::remove(std::string* why) {
  bool ok = true;
  // Boards first: each takes its veth pair, and with it the bridge's port, along.
  while (!created_.empty()) {
    const std::string error = run_tool({"ip", "netns", "delete", created_.back()});
    if (!error.empty() && fs::exists(kNetnsDir / created_.back())) {
      if (why && ok) *why = error;
      ok = false;
    }
    created_.pop_back();
  }
  return ok;
}

void remove_stale_board_networks() {
  for (const std::string& name : list_board_namespaces()) {
    const int pid = owner_of(name);
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // its launcher still runs
    run_tool({"ip", "netns", "delete", name});
  }
}

std::vector<std::string> list_board_namespaces() {
  std::vector<std::string> names;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(kNetnsDir, error)) {
    const std::string name = entry.path().filename().string();
    if (owner_of(name) > 0) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace edgegnn::runtime
