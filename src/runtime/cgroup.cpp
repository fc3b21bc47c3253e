#include "runtime/cgroup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "core/error.h"

namespace edgegnn::runtime {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream stream(text);
  while (std::getline(stream, part, separator)) parts.push_back(part);
  return parts;
}

bool contains_word(const std::string& list, const std::string& word, char separator) {
  for (const std::string& item : split(list, separator))
    if (item == word) return true;
  return false;
}

// mountinfo escapes space, tab, newline and backslash in paths as \ooo.
std::string unescape_mount_path(const std::string& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '\\' && i + 3 < path.size()) {
      out.push_back(static_cast<char>(std::stoi(path.substr(i + 1, 3), nullptr, 8)));
      i += 3;
    } else {
      out.push_back(path[i]);
    }
  }
  return out;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes `text` to a cgroup control file; returns errno, or 0 on success.
// cgroup files report a refused value as a failed write(2), so no stdio.
int write_control(const fs::path& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const ssize_t written = ::write(fd, text.data(), text.size());
  const int error = written < 0 ? errno : 0;
  ::close(fd);
  return error;
}

// The value after `key ` in a flat-keyed file (memory.events, oom_control).
std::optional<int64_t> read_keyed(const fs::path& path, const std::string& key) {
  std::ifstream in(path);
  std::string name;
  int64_t value;
  while (in >> name >> value)
    if (name == key) return value;
  return std::nullopt;
}

// cgroup v2 lists controllers as space-separated words on one line.
bool has_controller(const std::string& list, const std::string& controller) {
  std::istringstream words(list);
  for (std::string word; words >> word;)
    if (word == controller) return true;
  return false;
}

bool v2_dir_has_memory(const fs::path& dir) {
  return has_controller(read_text(dir / "cgroup.controllers"), "memory");
}

}  // namespace

std::optional<CgroupParent> parse_memory_cgroup_parent(const std::string& mountinfo,
                                                       const std::string& proc_self_cgroup,
                                                       bool (*v2_has_memory)(const fs::path& dir)) {
  struct Mount {
    std::string root, point;
  };
  std::optional<Mount> v1, v2;
  for (const std::string& line : split(mountinfo, '\n')) {
    // ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
    const std::vector<std::string> fields = split(line, ' ');
    size_t dash = 0;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (fields.size() < 5 || dash + 3 >= fields.size()) continue;
    const std::string& type = fields[dash + 1];
    const Mount mount{unescape_mount_path(fields[3]), unescape_mount_path(fields[4])};
    if (type == "cgroup" && !v1 && contains_word(fields[dash + 3], "memory", ',')) v1 = mount;
    if (type == "cgroup2" && !v2) v2 = mount;
  }

  std::optional<std::string> v1_path, v2_path;
  for (const std::string& line : split(proc_self_cgroup, '\n')) {
    // ID:CONTROLLERS:PATH, where PATH may itself contain ':'.
    const size_t first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (contains_word(controllers, "memory", ',')) v1_path = path;
    if (line.compare(0, first, "0") == 0 && controllers.empty()) v2_path = path;
  }

  // The path is relative to the hierarchy's root; a bind mount of a sub-tree
  // (a container) shows that sub-tree as ROOT, which is then not repeated.
  auto join = [](const Mount& mount, std::string path) {
    if (mount.root != "/" && path.compare(0, mount.root.size(), mount.root) == 0)
      path = path.substr(mount.root.size());
    const fs::path relative = fs::path(path).relative_path();
    return relative.empty() ? fs::path(mount.point) : fs::path(mount.point) / relative;
  };
  if (v1 && v1_path) return CgroupParent{CgroupVersion::kCgroupV1, join(*v1, *v1_path)};
  if (v2 && v2_path && v2_has_memory(v2->point))
    return CgroupParent{CgroupVersion::kCgroupV2, join(*v2, *v2_path)};
  return std::nullopt;
}

CgroupParent find_memory_cgroup_parent(const std::string& flag, const std::string& fallback) {
  const std::optional<CgroupParent> parent = parse_memory_cgroup_parent(
      read_text("/proc/self/mountinfo"), read_text("/proc/self/cgroup"), v2_dir_has_memory);
  check(parent.has_value(),
        "{}: no memory cgroup controller is mounted (looked for a cgroup v1 'memory' hierarchy and "
        "cgroup v2 with the memory controller in /proc/self/mountinfo); {}",
        flag, fallback);
  check(::access(parent->dir.c_str(), W_OK) == 0, "{}: {} is not writable (run as root, or {})",
        flag, parent->dir.string(), fallback);
  return *parent;
}

MemoryCgroup::MemoryCgroup(const CgroupParent& parent, const std::string& name, int64_t limit_bytes)
    : version_(parent.version), dir_(parent.dir / name), limit_bytes_(limit_bytes) {
  check(limit_bytes > 0, "{}: memory limit must be more than 0 bytes, got {}", dir_.string(),
        limit_bytes);
  if (parent.version == CgroupVersion::kCgroupV2 &&
      !has_controller(read_text(parent.dir / "cgroup.subtree_control"), "memory")) {
    const int error = write_control(parent.dir / "cgroup.subtree_control", "+memory");
    check(error == 0,
          "{}: cannot enable the memory controller for child cgroups ({}); start edgegnn in a "
          "delegated cgroup leaf, or drop --enforce-memory",
          (parent.dir / "cgroup.subtree_control").string(), std::strerror(error));
  }
  // An empty leftover of the same name (a reused launcher pid) is taken over.
  int mkdir_error = ::mkdir(dir_.c_str(), 0755) == 0 ? 0 : errno;
  if (mkdir_error == EEXIST && ::rmdir(dir_.c_str()) == 0)
    mkdir_error = ::mkdir(dir_.c_str(), 0755) == 0 ? 0 : errno;
  if (mkdir_error != 0) {
    const int error = mkdir_error;
    const fs::path failed = dir_;
    dir_.clear();  // not ours to remove
    fail("{}: cannot create the cgroup ({})", failed.string(), std::strerror(error));
  }
  const std::string limit = std::to_string(limit_bytes);
  const fs::path limit_file =
      dir_ / (version_ == CgroupVersion::kCgroupV1 ? "memory.limit_in_bytes" : "memory.max");
  const int error = write_control(limit_file, limit);
  if (error != 0) {
    remove();
    fail("{}: cannot set the limit to {} ({})", limit_file.string(), limit, std::strerror(error));
  }
  // Without these a worker would page out past its limit instead of stopping.
  // Both files are absent without swap accounting, which is fine: then there
  // is nothing to swap to inside the cgroup's accounting.
  if (version_ == CgroupVersion::kCgroupV1)
    write_control(dir_ / "memory.memsw.limit_in_bytes", limit);
  else
    write_control(dir_ / "memory.swap.max", "0");
}

MemoryCgroup::MemoryCgroup(MemoryCgroup&& other) noexcept
    : version_(other.version_), dir_(std::move(other.dir_)), limit_bytes_(other.limit_bytes_) {
  other.dir_.clear();
}

void MemoryCgroup::add_process(pid_t pid) const {
  const int error = write_control(procs_path(), std::to_string(pid));
  check(error == 0, "{}: cannot move process {} into the cgroup ({})", procs_path().string(), pid,
        std::strerror(error));
}

int64_t MemoryCgroup::oom_kill_count() const {
  if (version_ == CgroupVersion::kCgroupV2)
    return read_keyed(dir_ / "memory.events", "oom_kill").value_or(0);
  if (std::optional<int64_t> count = read_keyed(dir_ / "memory.oom_control", "oom_kill"))
    return *count;
  // Before Linux 4.13 v1 has no counter: hitting the limit is the best hint.
  int64_t failcnt = 0;
  std::ifstream(dir_ / "memory.failcnt") >> failcnt;
  return failcnt > 0 ? 1 : 0;
}

bool MemoryCgroup::remove(std::string* why) {
  if (dir_.empty()) return true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (true) {
    // Leftovers (a worker's own children) would keep the directory busy.
    std::ifstream procs(procs_path());
    for (pid_t pid; procs >> pid;) ::kill(pid, SIGKILL);
    if (::rmdir(dir_.c_str()) == 0 || errno == ENOENT) break;
    const int error = errno;
    if (error != EBUSY || std::chrono::steady_clock::now() > deadline) {
      if (why)
        *why =
            fmt::format("{}: cannot remove the cgroup ({})", dir_.string(), std::strerror(error));
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  dir_.clear();
  return true;
}

void remove_stale_cgroups(const CgroupParent& parent) {
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(parent.dir, error)) {
    int launcher_pid = 0, rank = 0, length = 0;
    const std::string name = entry.path().filename().string();
    if (std::sscanf(name.c_str(), "edgegnn-%d-rank%d%n", &launcher_pid, &rank, &length) != 2 ||
        length != static_cast<int>(name.size()) || launcher_pid <= 0)
      continue;
    if (::kill(launcher_pid, 0) == 0 || errno != ESRCH) continue;  // still running
    ::rmdir(entry.path().c_str());  // fails, harmlessly, while processes remain
  }
}

}  // namespace edgegnn::runtime
