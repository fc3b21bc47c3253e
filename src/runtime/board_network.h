// The network of one launch's emulated boards (`edgegnn train --emulate`):
// the only way its workers can reach each other, at each board's link rate.
//
// Layout, all inside network namespaces this launcher creates (nothing is
// added to the host's own namespace, so its routes and interfaces are never
// touched and 10.213.0.0/24 cannot clash with a network the host is on):
//   edgegnn-<pid>-switch   bridge "br0" at 10.213.0.254/24 (the console, for
//                          the emulated rack's ssh), with one port "rank<k>" per board
//   edgegnn-<pid>-rank<k>  "lo" and "eth0" at 10.213.0.<k+1>/24, the other
//                          end of the veth pair whose end "rank<k>" is on br0
// <pid> is the launcher's, so concurrent launches do not collide. Both ends
// of each veth have a tbf qdisc at the board's rate: eth0's shapes what the
// board sends, rank<k>'s what it receives, as a switch port would. A transfer
// between two boards thus runs at the slower of the two links. No latency is
// added (that needs netem, not available everywhere).
//
// Set-up runs `ip` and `tc` (iproute2) with argv, no shell; a failure throws
// Error with the command and its stderr. A worker joins its board by setns()
// on the file namespace_path(k) opened before fork.
//
// BoardNetwork owns the namespaces: the destructor deletes them, which also
// removes their links and qdiscs once the last process in them has ended. A
// launcher killed by SIGKILL cannot; the next launch's
// remove_stale_board_networks() deletes the namespaces of launchers that no
// longer run. Not thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace edgegnn::runtime {

class BoardNetwork {
 public:
  // One board per entry of `link_bits_per_second`, for launcher `owner_pid`.
  // Throws Error naming `flag` (e.g. "--emulate") and what failed, after
  // removing whatever it had created.
  BoardNetwork(int owner_pid, const std::vector<int64_t>& link_bits_per_second,
               const std::string& flag);
  ~BoardNetwork() { remove(); }
  BoardNetwork(const BoardNetwork&) = delete;
  BoardNetwork& operator=(const BoardNetwork&) = delete;

  int num_boards() const { return num_boards_; }
  // Board k's IPv4 address, "10.213.0.<k+1>".
  std::string address(int rank) const;
  // What a process opens and passes to setns(CLONE_NEWNET) to run on board k.
  std::filesystem::path namespace_path(int rank) const;
  // The namespace names, for tests and messages: edgegnn-<pid>-rank<k>.
  std::string namespace_name(int rank) const;
  // The switch's namespace, edgegnn-<pid>-switch: a process in it reaches every
  // board from kConsoleAddress, unshaped.
  std::string switch_namespace_name() const;
  static constexpr const char* kConsoleAddress = "10.213.0.254";
  // Deletes every namespace created. Idempotent. Returns false, with the
  // reason in *why when given, when a deletion failed.
  bool remove(std::string* why = nullptr);

 private:
  std::string prefix_;  // "edgegnn-<pid>"
  int num_boards_ = 0;
  std::vector<std::string> created_;  // namespace names, to delete
};

// Throws Error naming `flag` unless this process may create network
// namespaces and configure links in them (CAP_SYS_ADMIN and CAP_NET_ADMIN,
// i.e. root), saying how to run without emulation.
void check_board_network_privileges(const std::string& flag);

// Deletes edgegnn-<pid>-* namespaces whose launcher <pid> no longer runs.
void remove_stale_board_networks();

// The edgegnn-<pid>-* namespaces there are now, for tests.
std::vector<std::string> list_board_namespaces();

}  // namespace edgegnn::runtime
