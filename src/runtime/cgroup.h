// Memory cgroups for `--enforce-memory cgroup`: the local launcher puts each
// worker in its own cgroup whose limit is the worker's memory budget, so the
// kernel enforces the budget even between two MemoryWatch polls.
//
// Where: a child of the launcher's own memory cgroup (from /proc/self/cgroup),
// named "edgegnn-<launcher pid>-rank<k>". Nesting, rather than creating at the
// hierarchy root, keeps workers inside whatever limits the launcher already
// runs under (a systemd slice, a container) and needs write access only there.
//   - cgroup v1: the `memory` hierarchy (e.g. /sys/fs/cgroup/memory); the limit
//     goes to memory.limit_in_bytes, and to memory.memsw.limit_in_bytes where
//     swap accounting exists, so a worker cannot swap past it.
//   - cgroup v2: the unified hierarchy when its cgroup.controllers lists memory;
//     the limit goes to memory.max, memory.swap.max is set to 0. The parent must
//     have memory in cgroup.subtree_control; it is enabled when missing, which
//     the kernel refuses (EBUSY) if the parent itself holds processes and is not
//     the root: start edgegnn in a delegated leaf then (e.g. `systemd-run --user
//     --scope -p Delegate=yes`), or drop --enforce-memory.
// When neither is writable, find_memory_cgroup_parent() throws an Error naming
// what is missing; the RSS watch (memory_budget.h) still works without cgroups.
//
// MemoryCgroup owns its directory: the destructor kills whatever still runs in
// it and removes it, on every exit path that unwinds. A launcher killed with
// SIGKILL cannot clean up; the next launch under the same parent removes empty
// edgegnn-* cgroups whose launcher pid is gone. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace edgegnn::runtime {

enum class CgroupVersion { kCgroupV1, kCgroupV2 };

struct CgroupParent {
  CgroupVersion version = CgroupVersion::kCgroupV1;
  std::filesystem::path dir;  // this process's own memory cgroup directory
};

// Locates this process's memory cgroup from the texts of /proc/self/mountinfo
// and /proc/self/cgroup. Prefers v1 `memory` (on a hybrid system v2 then has
// no memory controller). Returns nullopt when no memory controller is mounted.
// Pure, for tests: `v2_has_memory` says whether a v2 mount point's
// cgroup.controllers lists memory.
std::optional<CgroupParent> parse_memory_cgroup_parent(
    const std::string& mountinfo, const std::string& proc_self_cgroup,
    bool (*v2_has_memory)(const std::filesystem::path& dir));

// The directory worker cgroups go in. Throws Error, for `flag` (e.g.
// "--enforce-memory cgroup"), when no memory controller is mounted or the
// directory is not writable, ending with `fallback`, how to run without:
//   "--enforce-memory cgroup: /sys/fs/cgroup/memory/... is not writable (run as
//    root, or drop --enforce-memory to rely on the RSS watch)".
CgroupParent find_memory_cgroup_parent(const std::string& flag, const std::string& fallback);

class MemoryCgroup {
 public:
  // Creates `parent.dir / name` with the given limit. Throws Error naming the
  // file that could not be created or written.
  MemoryCgroup(const CgroupParent& parent, const std::string& name, int64_t limit_bytes);
  ~MemoryCgroup() { remove(); }
  MemoryCgroup(MemoryCgroup&& other) noexcept;
  MemoryCgroup& operator=(MemoryCgroup&&) = delete;
  MemoryCgroup(const MemoryCgroup&) = delete;
  MemoryCgroup& operator=(const MemoryCgroup&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  int64_t limit_bytes() const { return limit_bytes_; }
  // The file a process writes "0" to, to join (async-signal-safe after fork,
  // when opened before it), or a pid, to move that process.
  std::filesystem::path procs_path() const { return dir_ / "cgroup.procs"; }
  // Moves `pid` into this cgroup. Throws Error.
  void add_process(pid_t pid) const;
  // How many processes the kernel's OOM killer has killed in this cgroup
  // (v1: memory.oom_control "oom_kill", or memory.failcnt > 0 on kernels
  // older than 4.13 as a stand-in; v2: memory.events "oom_kill").
  int64_t oom_kill_count() const;
  // SIGKILLs what still runs inside, then removes the directory, retrying
  // for up to a second while the kernel finishes the exits. Idempotent.
  // Returns false, with the reason in *why when given, if it stays.
  bool remove(std::string* why = nullptr);

 private:
  CgroupVersion version_;
  std::filesystem::path dir_;  // empty once removed or moved from
  int64_t limit_bytes_;
};

// Removes empty "edgegnn-<pid>-rank<k>" cgroups in `parent` whose launcher
// <pid> no longer runs (left behind by a launcher that was SIGKILLed).
void remove_stale_cgroups(const CgroupParent& parent);

}  // namespace edgegnn::runtime
