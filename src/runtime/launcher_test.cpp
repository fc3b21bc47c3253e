#include "runtime/launcher.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "runtime/cgroup.h"
#include "runtime/memory_budget.h"
#include "test_support/time_factor.h"

namespace edgegnn::runtime {
namespace {

namespace fs = std::filesystem;
using test::scaled_seconds;

// What workers that must be stopped run: a sleep far longer than any bound
// here, so that one ending by itself never passes for one that was stopped.
const std::string kSleepLong = fmt::format("sleep {:.0f}", scaled_seconds(100));

// runtime_tests doubles as a worker that uses memory, so the memory tests need
// no scripting language. Started with EDGEGNN_TEST_TOUCH_MIB=<a,b,...> it
// prints its memory cgroup, touches entry RANK of that list in MiB and exits
// before any test runs; with EDGEGNN_TEST_BUDGET_MIB it first starts the
// MemoryWatch that `edgegnn train --memory-budget` would.
const bool kRanAsMemoryWorker = [] {
  const char* touch = std::getenv("EDGEGNN_TEST_TOUCH_MIB");
  if (!touch) return false;
  std::vector<int64_t> mib_per_rank;
  std::istringstream list(touch);
  for (std::string item; std::getline(list, item, ',');) mib_per_rank.push_back(std::stoll(item));
  const int rank = std::atoi(std::getenv("RANK"));
  std::ifstream cgroups("/proc/self/cgroup");
  for (std::string line; std::getline(cgroups, line);)
    if (line.find(":memory:") != std::string::npos) std::printf("cgroup %s\n", line.c_str());
  std::fflush(stdout);
  std::optional<MemoryWatch> watch;
  if (const char* budget = std::getenv("EDGEGNN_TEST_BUDGET_MIB"))
    watch.emplace(MemoryWatchOptions{rank, std::stoll(budget) << 20, /*poll_seconds=*/0.01,
                                     exit_over_budget});
  std::vector<char> block(mib_per_rank.at(rank) << 20);
  std::memset(block.data(), 1, block.size());
  asm volatile("" : : "r"(block.data()) : "memory");
  // The watcher, polling every 10 ms, ends us first.
  if (watch) std::this_thread::sleep_for(std::chrono::duration<double>(scaled_seconds(10)));
  std::_Exit(0);
}();

std::string self_exe() { return fs::read_symlink("/proc/self/exe").string(); }

// Everything written to a tmpfile, as lines.
std::vector<std::string> lines_of(std::FILE* file) {
  std::fflush(file);
  std::rewind(file);
  std::vector<std::string> lines;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, file)) {
    std::string line = buffer;
    if (!line.empty() && line.back() == '\n') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

bool contains(const std::vector<std::string>& lines, const std::string& text) {
  for (const std::string& line : lines)
    if (line.find(text) != std::string::npos) return true;
  return false;
}

// Waits for `pid` to end (2 s idle at most); a zombie waiting for init counts as ended.
bool process_gone(pid_t pid) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(scaled_seconds(2));
  while (Clock::now() < deadline) {
    std::ifstream stat(fmt::format("/proc/{}/stat", pid));
    std::string text;
    if (!std::getline(stat, text)) return true;
    if (text.find(") Z ") != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Pids a worker script printed as "child <pid>".
std::vector<pid_t> printed_pids(const std::vector<std::string>& lines) {
  std::vector<pid_t> pids;
  for (const std::string& line : lines)
    if (size_t at = line.find("child "); at != std::string::npos)
      pids.push_back(std::stoi(line.substr(at + 6)));
  return pids;
}

// Launch options writing worker output to two tmpfiles.
struct Captured {
  LaunchOptions options;
  Captured(int num_workers, const std::string& script) {
    options.num_workers = num_workers;
    options.argv = {"/bin/sh", "-c", script};
    options.out = std::tmpfile();
    options.err = std::tmpfile();
  }
  ~Captured() {
    std::fclose(options.out);
    std::fclose(options.err);
  }
  std::vector<std::string> out() { return lines_of(options.out); }
  std::vector<std::string> err() { return lines_of(options.err); }
};

TEST(Launcher, WorkersSeeTheirRankAndTheirOutputIsPrefixed) {
  Captured run(3,
               "echo \"rank $RANK of $WORLD_SIZE local $LOCAL_RANK/$LOCAL_WORLD_SIZE at "
               "$MASTER_ADDR:$MASTER_PORT "
               "worker=$EDGEGNN_WORKER extra=$EXTRA\"; echo \"to stderr $RANK\" >&2; printf \"no "
               "newline $RANK\"");
  run.options.extra_env = {{"EXTRA", "yes"}};
  const LaunchResult result = launch_local(run.options);
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.exit_code(), 0);
  ASSERT_GT(result.master_port, 0);
  const std::string where = fmt::format("at 127.0.0.1:{} worker=1 extra=yes", result.master_port);
  std::vector<std::string> out = run.out(), err = run.err();
  std::sort(out.begin(), out.end());
  std::sort(err.begin(), err.end());
  // Rank 0's stdout is the run's own output, unprefixed; everything else says its rank.
  EXPECT_EQ(out, (std::vector<std::string>{
                     "[rank 1] no newline 1", "[rank 1] rank 1 of 3 local 1/3 " + where,
                     "[rank 2] no newline 2", "[rank 2] rank 2 of 3 local 2/3 " + where,
                     "no newline 0", "rank 0 of 3 local 0/3 " + where}));
  EXPECT_EQ(err, (std::vector<std::string>{"[rank 0] to stderr 0", "[rank 1] to stderr 1",
                                           "[rank 2] to stderr 2"}));
  ASSERT_EQ(result.workers.size(), 3u);
  for (const WorkerResult& worker : result.workers) {
    EXPECT_TRUE(worker.ok());
    EXPECT_FALSE(worker.stopped_by_launcher);
  }
}

TEST(Launcher, AFailingWorkerStopsTheOthersAndIsNamed) {
  Captured run(3, "if [ \"$RANK\" = 1 ]; then sleep 0.2; exit 7; fi; " + kSleepLong +
                      " & echo \"child $!\"; wait");
  const auto start = Clock::now();
  const LaunchResult result = launch_local(run.options);
  EXPECT_LT(seconds_since(start), 0.2 + scaled_seconds(1));
  EXPECT_EQ(result.message, "rank 1 exited with code 7");
  EXPECT_EQ(result.exit_code(), 7);
  EXPECT_EQ(result.failed_rank, 1);
  for (int rank : {0, 2}) {
    EXPECT_TRUE(result.workers[rank].stopped_by_launcher);
    EXPECT_EQ(result.workers[rank].signal, SIGTERM);
  }
  EXPECT_FALSE(result.workers[1].stopped_by_launcher);
  // No orphan: neither the workers nor the sleeps they started are left.
  std::vector<pid_t> pids = printed_pids(run.out());
  EXPECT_EQ(pids.size(), 2u);
  for (const WorkerResult& worker : result.workers) pids.push_back(worker.pid);
  for (pid_t pid : pids) EXPECT_TRUE(process_gone(pid)) << pid;
}

TEST(Launcher, AWorkerThatIgnoresSigtermIsKilledAfterTheGrace) {
  Captured run(2, "if [ \"$RANK\" = 1 ]; then sleep 0.3; exit 1; fi; trap '' TERM; " + kSleepLong +
                      " & echo \"child $!\"; wait");
  run.options.kill_grace_seconds = 0.5;
  const auto start = Clock::now();
  const LaunchResult result = launch_local(run.options);
  const double seconds = seconds_since(start);
  EXPECT_GE(seconds, 0.3 + 0.5);
  EXPECT_LT(seconds, 0.3 + 0.5 + scaled_seconds(1));
  EXPECT_EQ(result.message, "rank 1 exited with code 1");
  EXPECT_EQ(result.workers[0].signal, SIGKILL);
  const std::vector<pid_t> pids = printed_pids(run.out());
  ASSERT_EQ(pids.size(), 1u);
  EXPECT_TRUE(process_gone(pids[0]));
  EXPECT_TRUE(process_gone(result.workers[0].pid));
}

TEST(Launcher, AWorkerKilledByASignalIsReportedAsSuch) {
  Captured run(2, "if [ \"$RANK\" = 0 ]; then ulimit -c 0; kill -SEGV $$; fi; " + kSleepLong);
  const LaunchResult result = launch_local(run.options);
  EXPECT_EQ(result.message, "rank 0 was killed by signal 11 (SIGSEGV)");
  EXPECT_EQ(result.exit_code(), 128 + SIGSEGV);
}

// launch_local running in a forked child of the test, so the test can signal
// it. Worker output and the result go to a log file.
class ForkedLauncher {
 public:
  ForkedLauncher(int num_workers, const std::string& script, double kill_grace_seconds)
      : log_(fs::path(testing::TempDir()) / fmt::format("launcher-{}.log", ::getpid())) {
    pid_ = ::fork();
    if (pid_ != 0) return;
    std::FILE* file = std::fopen(log_.c_str(), "w");
    LaunchOptions options;
    options.num_workers = num_workers;
    options.argv = {"/bin/sh", "-c", script};
    options.kill_grace_seconds = kill_grace_seconds;
    options.out = options.err = file;
    int code = 1;
    try {
      const LaunchResult result = launch_local(options);
      std::fprintf(file, "result: %s\n", result.message.c_str());
      code = result.exit_code();
    } catch (const std::exception& e) {
      std::fprintf(file, "exception: %s\n", e.what());
    }
    std::fclose(file);
    std::_Exit(code);
  }
  ~ForkedLauncher() {
    if (status_ < 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    fs::remove(log_);
  }
  pid_t pid() const { return pid_; }
  std::string log() const {
    std::ifstream in(log_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  // The "child <pid>" lines, once `count` of them are there (5 s idle at most).
  std::vector<pid_t> wait_for_pids(size_t count) const {
    std::vector<pid_t> pids;
    for (auto deadline = Clock::now() + std::chrono::duration<double>(scaled_seconds(5));
         pids.size() < count && Clock::now() < deadline;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      std::vector<std::string> lines;
      std::istringstream text(log());
      for (std::string line; std::getline(text, line);) lines.push_back(line);
      pids = printed_pids(lines);
    }
    return pids;
  }
  // The launcher's wait status, or -1 if it is still running after `seconds`.
  int wait(double seconds) {
    for (auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
         Clock::now() < deadline;) {
      int status;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) return status_ = status;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

 private:
  fs::path log_;
  pid_t pid_;
  int status_ = -1;
};

TEST(Launcher, SigintToTheLauncherStopsEveryWorker) {
  ForkedLauncher launcher(2, "echo \"child $$\"; " + kSleepLong + " & echo \"child $!\"; wait",
                          /*kill_grace_seconds=*/2);
  const std::vector<pid_t> pids = launcher.wait_for_pids(4);  // both workers and their sleeps
  ASSERT_EQ(pids.size(), 4u) << launcher.log();
  ::kill(launcher.pid(), SIGINT);
  const int status = launcher.wait(scaled_seconds(2));
  ASSERT_NE(status, -1) << "the launcher did not stop within " << scaled_seconds(2)
                        << " s of SIGINT";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGINT) << status;
  EXPECT_NE(launcher.log().find("result: interrupted by SIGINT; stopped 2 running workers"),
            std::string::npos)
      << launcher.log();
  for (pid_t pid : pids) EXPECT_TRUE(process_gone(pid)) << pid;
}

TEST(Launcher, ASecondSigintSkipsTheGracePeriod) {
  // The grace outlasts the wait below many times over.
  ForkedLauncher launcher(2, "trap '' TERM; echo \"child $$\"; " + kSleepLong,
                          /*kill_grace_seconds=*/scaled_seconds(30));
  const std::vector<pid_t> pids = launcher.wait_for_pids(2);
  ASSERT_EQ(pids.size(), 2u) << launcher.log();
  ::kill(launcher.pid(), SIGINT);
  EXPECT_EQ(launcher.wait(/*seconds=*/0.3), -1);  // the workers ignore SIGTERM
  ::kill(launcher.pid(), SIGINT);
  const int status = launcher.wait(scaled_seconds(2));
  ASSERT_NE(status, -1) << "a second SIGINT did not stop the launcher";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGINT) << status;
  for (pid_t pid : pids) EXPECT_TRUE(process_gone(pid)) << pid;
}

TEST(Launcher, WorkersDieWithALauncherKilledBySigkill) {
  // exec: the worker is the sleep itself; PR_SET_PDEATHSIG reaches only the
  // launcher's direct children.
  ForkedLauncher launcher(2, "echo \"child $$\"; exec " + kSleepLong, /*kill_grace_seconds=*/5);
  const std::vector<pid_t> pids = launcher.wait_for_pids(2);
  ASSERT_EQ(pids.size(), 2u) << launcher.log();
  ::kill(launcher.pid(), SIGKILL);
  ASSERT_NE(launcher.wait(scaled_seconds(2)), -1);
  for (pid_t pid : pids) EXPECT_TRUE(process_gone(pid)) << pid;
}

TEST(Launcher, AWorkerThatCannotStartIsALaunchError) {
  Captured run(2, "");
  run.options.argv = {"/nonexistent/edgegnn-worker"};
  try {
    launch_local(run.options);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "rank 0: cannot start '/nonexistent/edgegnn-worker' (No such file or directory)");
  }
  run.options.argv = {"edgegnn-no-such-program"};
  EXPECT_THROW(launch_local(run.options), Error);
  run.options.argv = {};
  EXPECT_THROW(launch_local(run.options), Error);
}

TEST(Launcher, DescribesEachWayAWorkerEnds) {
  WorkerResult worker;
  worker.rank = 2;
  worker.exit_code = 1;
  EXPECT_EQ(describe_worker_exit(worker), "rank 2 exited with code 1");
  worker.exit_code = kExitOverBudget;
  EXPECT_EQ(describe_worker_exit(worker), "rank 2 exited with code 3 (over its memory budget)");
  worker.exit_code = -1;
  worker.signal = SIGKILL;
  EXPECT_EQ(describe_worker_exit(worker), "rank 2 was killed by signal 9 (SIGKILL)");
  worker.oom_killed = true;
  worker.memory_limit_bytes = int64_t{1} << 30;
  EXPECT_EQ(describe_worker_exit(worker),
            "rank 2 was killed by the out-of-memory killer at its 1.0 GiB limit");
  // On an emulated board the board's RAM is the limit a user knows.
  worker.board = "pi4-1g";
  worker.board_ram_bytes = int64_t{1} << 30;
  worker.memory_limit_bytes = int64_t{896} << 20;
  EXPECT_EQ(describe_worker_exit(worker),
            "rank 2 (pi4-1g) was killed by the out-of-memory killer at its 1 GiB board limit "
            "(896 MiB after the 128 MiB OS reserve)");
  worker.label = "layer2+loss";
  worker.oom_killed = false;
  EXPECT_EQ(describe_worker_exit(worker),
            "rank 2 (layer2+loss on pi4-1g) was killed by signal 9 (SIGKILL)");
}

TEST(Launcher, AWorkerOverItsBudgetStopsWithCode3) {
  LaunchOptions options;
  options.argv = {self_exe()};
  options.extra_env = {{"EDGEGNN_TEST_TOUCH_MIB", "128"}, {"EDGEGNN_TEST_BUDGET_MIB", "48"}};
  options.out = std::tmpfile();
  options.err = std::tmpfile();
  const LaunchResult result = launch_local(options);
  EXPECT_EQ(result.message, "rank 0 exited with code 3 (over its memory budget)");
  EXPECT_EQ(result.exit_code(), kExitOverBudget);
  const std::vector<std::string> err = lines_of(options.err);
  EXPECT_TRUE(contains(err, "[rank 0] edgegnn: error: rank 0: peak memory "))
      << ::testing::PrintToString(err);
  EXPECT_TRUE(contains(err, "crossed the budget of 48.0 MiB (--memory-budget)"));
  std::fclose(options.out);
  std::fclose(options.err);
}

// Names of this process's worker cgroups still present.
std::vector<std::string> leftover_cgroups(const CgroupParent& parent) {
  std::vector<std::string> names;
  const std::string prefix = fmt::format("edgegnn-{}-rank", ::getpid());
  for (const auto& entry : fs::directory_iterator(parent.dir))
    if (entry.path().filename().string().rfind(prefix, 0) == 0)
      names.push_back(entry.path().filename());
  return names;
}

TEST(Launcher, CgroupOutOfMemoryKillIsReportedAndTheCgroupsAreRemoved) {
  CgroupParent parent;
  try {
    parent = find_memory_cgroup_parent("--enforce-memory cgroup", "drop --enforce-memory");
  } catch (const Error& e) {
    GTEST_SKIP() << e.what();
  }
  LaunchOptions options;
  options.num_workers = 2;
  options.argv = {self_exe()};
  // Rank 0 stays well inside its limit; rank 1 touches four times its limit.
  options.extra_env = {{"EDGEGNN_TEST_TOUCH_MIB", "8,256"}};
  options.memory_limit_bytes = 64 << 20;
  options.out = std::tmpfile();
  options.err = std::tmpfile();
  const LaunchResult result = launch_local(options);
  EXPECT_EQ(result.message, "rank 1 was killed by the out-of-memory killer at its 64.0 MiB limit");
  EXPECT_TRUE(result.workers[1].oom_killed);
  EXPECT_EQ(result.exit_code(), 128 + SIGKILL);
  EXPECT_TRUE(result.warnings.empty()) << result.warnings.front();
  const std::vector<std::string> out = lines_of(options.out);
  EXPECT_TRUE(contains(out, fmt::format("/edgegnn-{}-rank0", ::getpid())))
      << ::testing::PrintToString(out);
  EXPECT_TRUE(contains(out, fmt::format("[rank 1] cgroup ")));
  EXPECT_TRUE(contains(out, fmt::format("/edgegnn-{}-rank1", ::getpid())));
  EXPECT_EQ(leftover_cgroups(parent), std::vector<std::string>{});
  std::fclose(options.out);
  std::fclose(options.err);
}

TEST(Launcher, FindsAFreePort) {
  const int port = find_free_port("127.0.0.1");
  EXPECT_GT(port, 0);
  EXPECT_LT(port, 65536);
  EXPECT_THROW(find_free_port("not-an-address"), Error);
}

}  // namespace
}  // namespace edgegnn::runtime
