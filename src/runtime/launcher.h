// Local launcher: runs N worker processes of one command on this machine, the
// emulation of N devices behind `edgegnn train --devices N`: on loopback, or
// with `--emulate` as boards with their own RAM and shaped links (below).
//
// Each worker is fork+exec of `argv` (or of `command`'s, e.g. ssh to a host
// for `edgegnn launch`) with the torchrun-style environment
//   RANK=k  LOCAL_RANK=k  WORLD_SIZE=N  LOCAL_WORLD_SIZE=N
//   MASTER_ADDR=127.0.0.1  MASTER_PORT=<a free port the launcher picked>
//   (on boards: rank 0's board address and port 29500)
//   EDGEGNN_WORKER=1  (kWorkerEnv: "you are a worker, do not launch again")
// plus `extra_env`, stdin from /dev/null (or a pipe, hold_stdin), and its own
// process group, so that stopping a worker also stops the children it started,
// and so that a Ctrl-C at the terminal reaches only the launcher, which then
// stops the workers in order.
// When a worker ends, whatever it left running in its group is SIGKILLed.
//
// Output: each worker's stdout and stderr come through pipes and are written
// line by line to `out` and `err`. Every stderr line is prefixed "[rank k] ";
// stdout lines are prefixed too, except rank 0's: rank 0 reports the run's
// results, so `edgegnn train --devices 4 > results.txt` reads like a
// single-device run while logs and errors still say which rank spoke. A last
// line without a newline is completed with one.
//
// Stopping: the first worker to fail (non-zero exit or killed by a signal)
// makes the launcher send SIGTERM to every worker's process group, then SIGKILL
// to those still running `kill_grace_seconds` later. SIGINT, SIGTERM or SIGHUP
// to the launcher does the same (another one during the stop skips the grace
// period; the first cause of the stop is the one reported). While
// launch_local runs it owns those signals and SIGCHLD and ignores SIGPIPE; the
// previous dispositions are restored before it returns. Workers also get
// PR_SET_PDEATHSIG=SIGKILL, so they die with a launcher that is SIGKILLed
// (their own children then are not reached: that needs the cgroup).
//
// Emulated boards (`boards`, board.h): rank k runs as boards[k], in its own
// network namespace joined to the others through a bridge at the board's link
// rate (board_network.h) and in its own memory cgroup at the board's memory
// limit. The child enters both before exec; MASTER_ADDR is rank 0's address
// on that network, so every byte between workers crosses a shaped link. The
// namespaces and cgroups are removed when launch_local returns or throws; a
// launcher killed by SIGKILL leaves them to the next launch, which removes
// those whose launcher is gone.
//
// Thread-safety: one launch_local at a time per process (signals are
// process-wide); a second concurrent call throws Error. Call it from a thread
// that lives until it returns (PDEATHSIG follows the forking thread).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/board.h"

namespace edgegnn::runtime {

inline constexpr const char* kWorkerEnv = "EDGEGNN_WORKER";

struct LaunchOptions {
  int num_workers = 1;
  // The worker command, argv[0] looked up in PATH like execvp. E.g. the
  // edgegnn train command line; workers see kWorkerEnv set.
  std::vector<std::string> argv;
  // Instead of argv: rank k's command, given the variables its worker is to
  // see (RANK, WORLD_SIZE, MASTER_ADDR, ...), for a command that starts the
  // worker elsewhere and must pass them on (ssh to a host).
  std::function<std::vector<std::string>(int rank, const std::map<std::string, std::string>& env)>
      command;
  // Each worker's stdin is a pipe the launcher holds open until it stops the
  // worker (or ends), instead of /dev/null: a worker on another host, behind
  // ssh, watches it to stop when the launcher goes.
  bool hold_stdin = false;
  // Added to (or replacing in) every worker's environment.
  std::map<std::string, std::string> extra_env;
  // --enforce-memory cgroup: each worker runs in its own memory cgroup with
  // this limit (see cgroup.h); launch fails with an Error where that is not
  // possible. nullopt: no cgroup.
  std::optional<int64_t> memory_limit_bytes;
  // --emulate: one board per worker, see above. master_addr and master_port
  // are then ignored (the boards' network is new) and memory_limit_bytes must
  // be unset. Empty: workers on loopback.
  std::vector<Board> boards;
  // Between SIGTERM and SIGKILL when stopping workers.
  double kill_grace_seconds = 5;
  std::string master_addr = "127.0.0.1";
  // 0 picks a free port on master_addr (find_free_port), which must then be
  // this machine's.
  int master_port = 0;
  // What each rank is, named with it in messages ("rank 2 (layer2+loss) was
  // killed by signal 9"); empty or shorter than num_workers: no names.
  std::vector<std::string> labels;
  // Where relayed worker output goes.
  std::FILE* out = stdout;
  std::FILE* err = stderr;
};

// How one worker ended.
struct WorkerResult {
  int rank = 0;
  std::string label;               // LaunchOptions::labels[rank], or ""
  std::string board;               // LaunchOptions::boards[rank].name, or ""
  int64_t board_ram_bytes = 0;     // with a board: its RAM, for messages
  int64_t memory_limit_bytes = 0;  // its memory cgroup's limit, 0 without one
  pid_t pid = 0;
  int exit_code = -1;                // its exit status when it exited, else -1
  int signal = 0;                    // the signal that killed it, else 0
  bool oom_killed = false;           // by the kernel, at its cgroup's limit
  bool stopped_by_launcher = false;  // it was still running when the launcher began stopping
  bool ok() const { return exit_code == 0; }
};

struct LaunchResult {
  std::vector<WorkerResult> workers;  // by rank
  int master_port = 0;
  int failed_rank = -1;      // the first rank that failed on its own, or -1
  int interrupt_signal = 0;  // the signal that stopped the launcher, or 0
  // "" when all workers succeeded, else what stopped the run, e.g.
  // "rank 1 exited with code 7", "rank 2 was killed by signal 9 (Killed)",
  // "rank 2 was killed by the out-of-memory killer at its 1.0 GiB limit",
  // "rank 2 (pi4-1g) was killed by the out-of-memory killer at its 1 GiB
  //  board limit (896 MiB after the 128 MiB OS reserve)",
  // "interrupted by signal 2 (Interrupt); stopped all 4 workers".
  std::string message;
  // Cleanup that failed (a cgroup that could not be removed); not errors of
  // the run itself, for the caller to log.
  std::vector<std::string> warnings;

  bool ok() const { return message.empty(); }
  // For the launcher process to exit with: 0; the failed worker's exit code;
  // 128 + signal for a worker killed by a signal (137 for an OOM kill); or
  // 128 + the signal that interrupted the launcher.
  int exit_code() const;
};

// Starts the workers, relays their output, and returns when all have ended and
// their output is drained. Throws Error when the launch itself fails (bad
// options, a worker that cannot be started, cgroups that cannot be set up),
// after stopping any workers already started.
LaunchResult launch_local(const LaunchOptions& options);

// What a worker's end means, for messages: "rank 1 exited with code 7",
// "rank 2 (layer2+loss) was killed by signal 9 (SIGKILL)", "rank 2
// (layer2+loss on pi4-1g) was killed by the out-of-memory killer at ...".
std::string describe_worker_exit(const WorkerResult& worker);

// A TCP port on `addr` that was free a moment ago: bound with port 0, read
// back, closed. Another process may take it before the workers bind it; the
// window is small and the store then fails with "address in use".
int find_free_port(const std::string& addr);

}  // namespace edgegnn::runtime
