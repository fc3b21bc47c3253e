// The emulated rack behind `edgegnn launch --emulate BOARD --devices N`: N
// boards (board.h) that the launcher reaches over ssh exactly as it reaches
// real hosts, so the rack path (hostfile, ssh, staging, mpirun) is the one
// tested here.
//
// Each board is what `train --emulate` gives a worker (a network namespace on
// the shaped bridge, board_network.h; a memory cgroup at the board's limit,
// cgroup.h), plus:
//   - an sshd (Debian openssh-server) bound to the board's address, in its
//     namespace and cgroup: every session, and so every worker, runs inside
//     the board's RAM and behind its link;
//   - its own disk: a private mount namespace in which the user's home is a
//     directory of the rack's, so what is staged to one board is on that
//     board alone.
// The launcher reaches the boards from the switch's namespace (the console,
// 10.213.0.254) through ssh_command(): `ip netns exec <switch> ssh` with a key
// made for the run and host keys pinned in a known_hosts of the run. Nothing
// listens outside the namespaces.
//
// Files: /tmp/edgegnn-rack-<launcher pid>/ (mode 0700): keys, sshd_config,
// each board's sshd log and disk (board<k>/). The destructor stops the sshds,
// kills what still runs in the cgroups and removes the cgroups, namespaces and
// that directory. A launcher killed by SIGKILL takes its sshds along
// (PDEATHSIG); the next rack removes the rest of racks whose launcher is gone.
// Needs root, as `train --emulate` does. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "runtime/board.h"
#include "runtime/board_network.h"
#include "runtime/cgroup.h"
#include "runtime/hostfile.h"

namespace edgegnn::runtime {

class EmulatedRack {
 public:
  // Builds the rack, one board per entry, and waits until every sshd listens.
  // Throws Error naming `flag` and what is missing or failed (no root, no
  // sshd), after removing what it had made.
  EmulatedRack(const std::vector<Board>& boards, const std::string& flag);
  ~EmulatedRack();
  EmulatedRack(const EmulatedRack&) = delete;
  EmulatedRack& operator=(const EmulatedRack&) = delete;

  int num_boards() const { return static_cast<int>(boards_.size()); }
  const Board& board(int k) const { return boards_[k]; }
  // Board k as a hostfile line would name it: its address, one slot.
  const std::vector<Host>& hosts() const { return hosts_; }
  // The ssh client command, as --ssh takes it: words without spaces.
  const std::string& ssh_command() const { return ssh_; }
  // The switch's namespace: mpirun runs there to reach the boards' daemons.
  std::string console_namespace() const { return network_->switch_namespace_name(); }
  // Board k's disk on this machine: what the board sees as the user's home.
  std::filesystem::path disk(int k) const;
  // How many processes the OOM killer killed on board k.
  int64_t oom_kill_count(int k) const { return cgroups_[k].oom_kill_count(); }
  const std::filesystem::path& directory() const { return dir_; }

 private:
  void start_sshd(int k);
  void stop();

  std::vector<Board> boards_;
  std::vector<Host> hosts_;
  std::string ssh_;
  std::filesystem::path dir_;
  std::optional<BoardNetwork> network_;
  std::vector<MemoryCgroup> cgroups_;
  std::vector<pid_t> sshd_pids_;
};

// Deletes /tmp/edgegnn-rack-<pid> directories whose launcher <pid> no longer
// runs. The names there are now, for tests: list_rack_directories().
void remove_stale_rack_directories();
std::vector<std::filesystem::path> list_rack_directories();

}  // namespace edgegnn::runtime
