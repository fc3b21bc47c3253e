#include "runtime/cgroup.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "core/error.h"

namespace edgegnn::runtime {
namespace {

namespace fs = std::filesystem;

bool has_memory(const fs::path&) { return true; }
bool lacks_memory(const fs::path&) { return false; }

// This machine's layout: v1 hierarchies beside a v2 one without memory.
constexpr const char* kHybridMountinfo =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

TEST(CgroupParent, FindsTheV1MemoryHierarchyAndTheOwnCgroupInIt) {
  const auto parent = parse_memory_cgroup_parent(
      kHybridMountinfo, "9:name=systemd:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n", has_memory);
  ASSERT_TRUE(parent);
  EXPECT_EQ(parent->version, CgroupVersion::kCgroupV1);
  EXPECT_EQ(parent->dir, "/sys/fs/cgroup/memory/process_api/abc");
}

TEST(CgroupParent, UsesV2OnlyWhenItHasTheMemoryController) {
  const std::string mountinfo =
      "30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 "
      "rw,nsdelegate,memory_recursiveprot\n";
  const std::string cgroup = "0::/user.slice/user-1000.slice/session-2.scope\n";
  const auto parent = parse_memory_cgroup_parent(mountinfo, cgroup, has_memory);
  ASSERT_TRUE(parent);
  EXPECT_EQ(parent->version, CgroupVersion::kCgroupV2);
  EXPECT_EQ(parent->dir, "/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope");
  EXPECT_FALSE(parse_memory_cgroup_parent(mountinfo, cgroup, lacks_memory));
  EXPECT_FALSE(parse_memory_cgroup_parent("", "", has_memory));
}

TEST(CgroupParent, DoesNotRepeatTheRootOfABindMountedSubtree) {
  const std::string mountinfo =
      "35 31 0:32 /docker/c0ffee /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n";
  auto parent = parse_memory_cgroup_parent(mountinfo, "4:memory:/docker/c0ffee/job\n", has_memory);
  ASSERT_TRUE(parent);
  EXPECT_EQ(parent->dir, "/sys/fs/cgroup/memory/job");
  // With a cgroup namespace the path is already relative to that root.
  parent = parse_memory_cgroup_parent(mountinfo, "4:memory:/\n", has_memory);
  ASSERT_TRUE(parent);
  EXPECT_EQ(parent->dir, "/sys/fs/cgroup/memory");
}

// The real parent, or skips the test with the reason.
#define REQUIRE_WRITABLE_CGROUP(parent)                                                     \
  CgroupParent parent;                                                                      \
  try {                                                                                     \
    parent = find_memory_cgroup_parent("--enforce-memory cgroup", "drop --enforce-memory"); \
  } catch (const Error& e) {                                                                \
    GTEST_SKIP() << e.what();                                                               \
  }

std::string read_first_line(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

TEST(MemoryCgroup, SetsTheLimitAndIsRemovedWithItsOwner) {
  REQUIRE_WRITABLE_CGROUP(parent);
  fs::path dir;
  {
    MemoryCgroup cgroup(parent, fmt::format("edgegnn-test-{}", ::getpid()),
                        /*limit_bytes=*/64 << 20);
    dir = cgroup.dir();
    ASSERT_TRUE(fs::is_directory(dir));
    const char* limit_file =
        parent.version == CgroupVersion::kCgroupV1 ? "memory.limit_in_bytes" : "memory.max";
    EXPECT_EQ(read_first_line(dir / limit_file), std::to_string(64 << 20));
    EXPECT_EQ(cgroup.oom_kill_count(), 0);
  }
  EXPECT_FALSE(fs::exists(dir));
}

TEST(MemoryCgroup, RemoveKillsWhatStillRunsInside) {
  REQUIRE_WRITABLE_CGROUP(parent);
  MemoryCgroup cgroup(parent, fmt::format("edgegnn-test-{}", ::getpid()), /*limit_bytes=*/64 << 20);
  const pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  cgroup.add_process(child);
  EXPECT_EQ(read_first_line(cgroup.procs_path()), std::to_string(child));
  const fs::path dir = cgroup.dir();
  std::string why;
  EXPECT_TRUE(cgroup.remove(&why)) << why;
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_FALSE(fs::exists(dir));
}

TEST(MemoryCgroup, StaleCgroupsOfADeadLauncherAreRemoved) {
  REQUIRE_WRITABLE_CGROUP(parent);
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ::waitpid(dead, nullptr, 0);
  const fs::path stale = parent.dir / fmt::format("edgegnn-{}-rank0", dead);
  const fs::path alive = parent.dir / fmt::format("edgegnn-{}-rank0", ::getpid());
  ASSERT_TRUE(fs::create_directory(stale));
  ASSERT_TRUE(fs::create_directory(alive));
  remove_stale_cgroups(parent);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(alive));
  fs::remove(alive);
}

TEST(MemoryCgroup, WithoutWriteAccessTheErrorSaysWhatToDo) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become an unprivileged user";
  REQUIRE_WRITABLE_CGROUP(parent);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    std::string message = "no error";
    if (::setuid(65534) != 0) message = "setuid failed";
    try {
      find_memory_cgroup_parent("--enforce-memory cgroup",
                                "drop --enforce-memory to rely on the RSS watch");
    } catch (const Error& e) {
      message = e.what();
    }
    [[maybe_unused]] ssize_t written = ::write(pipe_fds[1], message.data(), message.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  char buffer[1024];
  const ssize_t got = ::read(pipe_fds[0], buffer, sizeof buffer);
  ::close(pipe_fds[0]);
  ::waitpid(child, nullptr, 0);
  EXPECT_EQ(
      std::string(buffer, std::max<ssize_t>(got, 0)),
      fmt::format(
          "--enforce-memory cgroup: {} is not writable (run as root, or drop --enforce-memory to "
          "rely on the RSS watch)",
          parent.dir.string()));
}

}  // namespace
}  // namespace edgegnn::runtime
