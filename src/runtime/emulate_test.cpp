// Emulated boards (launcher.h with LaunchOptions::boards): shaped links, the
// out-of-memory report, the error without root, and cleanup on every exit.
// They need root, network namespaces, tc tbf and a writable memory cgroup, and
// skip with the reason where this machine lacks one.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "runtime/board.h"
#include "runtime/board_network.h"
#include "runtime/cgroup.h"
#include "runtime/launcher.h"
#include "test_support/datasets.h"
#include "test_support/time_factor.h"

namespace edgegnn::runtime {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using test::scaled_seconds;

// How long workers that must be stopped hold on: far longer than any bound
// here, so that one ending by itself never passes for one that was stopped.
const std::string kHoldSeconds = fmt::format("{:.0f}", scaled_seconds(100));

// Why boards cannot be emulated here, or "" when they can. Probed once, by
// setting up (and removing) a one-board network.
const std::string& emulation_unavailable() {
  static const std::string reason = [] {
    try {
      check_board_network_privileges("--emulate");
      find_memory_cgroup_parent("--emulate", "drop --emulate");
      BoardNetwork probe(::getpid(), {1'000'000'000}, "--emulate");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  }();
  return reason;
}

#define SKIP_WITHOUT_EMULATION()                                                 \
  if (!emulation_unavailable().empty()) GTEST_SKIP() << emulation_unavailable(); \
  static_assert(true)

// The namespaces and memory cgroups of launcher `pid` that still exist.
std::vector<std::string> leftovers_of(pid_t pid) {
  std::vector<std::string> names;
  const std::string prefix = fmt::format("edgegnn-{}-", pid);
  for (const std::string& name : list_board_namespaces())
    if (name.rfind(prefix, 0) == 0) names.push_back("netns " + name);
  const CgroupParent parent = find_memory_cgroup_parent("--emulate", "drop --emulate");
  for (const auto& entry : fs::directory_iterator(parent.dir))
    if (entry.path().filename().string().rfind(prefix, 0) == 0)
      names.push_back("cgroup " + entry.path().string());
  return names;
}

std::string read_all(std::FILE* file) {
  std::fflush(file);
  std::rewind(file);
  std::string text;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, file)) > 0;) text.append(buffer, n);
  return text;
}

struct LaunchRun {
  LaunchResult result;
  std::string out, err;
};

LaunchRun launch(const std::vector<std::string>& argv, const std::vector<Board>& boards,
                 int num_workers = 2) {
  LaunchOptions options;
  options.num_workers = num_workers;
  options.argv = argv;
  options.boards = boards;
  options.kill_grace_seconds = 2;
  options.out = std::tmpfile();
  options.err = std::tmpfile();
  LaunchRun run{launch_local(options), "", ""};
  run.out = read_all(options.out);
  run.err = read_all(options.err);
  std::fclose(options.out);
  std::fclose(options.err);
  return run;
}

// Seconds rank 1 took to receive `mib` MiB from rank 0, as it printed them.
double transfer_seconds(const LaunchRun& run, int mib) {
  std::smatch match;
  const std::regex line("received " + std::to_string(int64_t{mib} << 20) + " bytes in ([0-9.]+) s");
  if (!std::regex_search(run.out, match, line)) {
    ADD_FAILURE() << run.result.message << "\nout:\n" << run.out << "\nerr:\n" << run.err;
    return -1;
  }
  return std::stod(match[1]);
}

double send_between(int mib, const std::vector<Board>& boards) {
  const LaunchRun run =
      launch({EDGEGNN_EMULATE_WORKER, "transfer", std::to_string(mib)}, boards);
  EXPECT_TRUE(run.result.ok()) << run.result.message << "\n" << run.err;
  return transfer_seconds(run, mib);
}

// The shaped time is the link's rate: at least the payload's time, whatever
// the load, and at most that plus slack for the machine. Loopback is compared
// with a 100 Mbit/s link, not gigabit: with other tests on the cores loopback
// moved only 300 MB/s, too close to gigabit's 125 to say which is shaped.
TEST(EmulatedBoards, MovingDataTakesTheShapedRatesTimeAndFarLessOnLoopback) {
  SKIP_WITHOUT_EMULATION();
  const Board pi4 = parse_board("pi4-1g", "--emulate");
  const double gigabit = send_between(100, {pi4, pi4});
  const Board slow = parse_board("custom:1GiB/100mbit", "--emulate");
  const double slow_link = send_between(10, {slow, slow});
  const double loopback = send_between(10, {});
  std::printf("100 MiB: %.3f s between two pi4-1g boards; 10 MiB: %.3f s over 100 Mbit/s, "
              "%.3f s on loopback\n",
              gigabit, slow_link, loopback);
  // 100 MiB is 0.84 s of payload alone at 1 Gbit/s; so is 10 MiB at 100 Mbit/s.
  EXPECT_GE(gigabit, 0.8);
  EXPECT_LT(gigabit, 0.84 + scaled_seconds(0.7));
  EXPECT_GE(slow_link, 0.8);
  // Unshaped, 10 MiB took 0.03-0.07 s with both cores busy. The bound stays
  // under half the shaped time, or it could not tell the two apart.
  EXPECT_LT(loopback, std::min(scaled_seconds(0.1), 0.84 / 2));
  EXPECT_EQ(leftovers_of(::getpid()), std::vector<std::string>{});
}

TEST(EmulatedBoards, AWorkerPastItsBoardRamIsReportedAsKilledAtTheBoardLimit) {
  SKIP_WITHOUT_EMULATION();
  // Rank 0 stays within its 172 MiB and waits; rank 1 touches 400 MiB.
  const Board board = parse_board("custom:300MiB/1gbit", "--emulate");
  const auto start = Clock::now();
  const LaunchRun run =
      launch({EDGEGNN_EMULATE_WORKER, "touch", "8,400", kHoldSeconds}, {board, board});
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), scaled_seconds(10));
  EXPECT_EQ(run.result.message,
            "rank 1 (custom:300MiB/1gbit) was killed by the out-of-memory killer at its 300 MiB "
            "board limit (172 MiB after the 128 MiB OS reserve)");
  EXPECT_EQ(run.result.exit_code(), 128 + SIGKILL);
  EXPECT_TRUE(run.result.workers[0].stopped_by_launcher);
  EXPECT_EQ(leftovers_of(::getpid()), std::vector<std::string>{});
}

TEST(EmulatedBoards, TrainingTooBigForTheBoardEndsWithTheOneLineReport) {
  SKIP_WITHOUT_EMULATION();
  const test::CommandResult run = test::run_edgegnn(
      "train --dataset synthetic-reddit-mini --strategy data --devices 2 --epochs 1 --quiet "
      "--emulate custom:300MiB/1gbit");
  EXPECT_EQ(run.exit_code, 128 + SIGKILL) << run.output;
  EXPECT_TRUE(std::regex_search(
      run.output,
      std::regex("(^|\n)edgegnn: error: rank [01] \\(custom:300MiB/1gbit\\) was killed by the "
                 "out-of-memory killer at its 300 MiB board limit \\(172 MiB after the 128 MiB "
                 "OS reserve\\)\n")))
      << run.output;
}

TEST(EmulatedBoards, TrainingRunsOnEmulatedBoards) {
  SKIP_WITHOUT_EMULATION();
  const test::CommandResult run = test::run_edgegnn(
      "train --dataset synthetic-tiny --strategy data --devices 2 --epochs 2 --quiet "
      "--emulate pi4-1g,zero2w");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("test accuracy"), std::string::npos) << run.output;
}

TEST(EmulatedBoards, WithoutRootTheErrorNamesWhatIsMissingAndHowToRunWithout) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become an unprivileged user";
  std::string output;
  const int code = test::run_command(
      "setpriv --reuid=65534 --regid=65534 --clear-groups " + test::edgegnn_binary() +
          " train --dataset synthetic-tiny --strategy data --devices 2 --emulate pi4-1g",
      &output);
  EXPECT_EQ(code, 2) << output;
  EXPECT_EQ(output,
            "edgegnn: error: --emulate: emulating boards needs root (CAP_SYS_ADMIN and "
            "CAP_NET_ADMIN, to create network namespaces and memory cgroups), which this process "
            "(uid 65534) lacks; run as root, or drop --emulate to run the workers on loopback "
            "without board limits\n");
}

TEST(EmulatedBoards, BadUsesAreRefusedBeforeAnyWorkerStarts) {
  const std::string train = "train --dataset synthetic-tiny --strategy data --devices 2 ";
  test::CommandResult run = test::run_edgegnn(train + "--emulate pi4-1g,pi4-1g,pi4-1g");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.output,
            "edgegnn: error: --emulate: 3 boards for 2 devices (give one board for all, or one "
            "per device)\n");
  run = test::run_edgegnn(
      "train --dataset synthetic-tiny --emulate pi4-1g --memory-budget 1GiB --enforce-memory "
      "cgroup --strategy data --devices 2");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.output,
            "edgegnn: error: --enforce-memory: not with --emulate, whose boards set each worker's "
            "memory limit\n");
}

// launch_local on two pi4-1g boards running a long sleep, in a forked child
// that the test can signal.
pid_t fork_sleeping_launcher() {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  int code = 1;
  try {
    const Board board = parse_board("pi4-1g", "--emulate");
    LaunchOptions options;
    options.num_workers = 2;
    options.argv = {"sleep", kHoldSeconds};
    options.boards = {board, board};
    options.kill_grace_seconds = 2;
    options.out = options.err = std::fopen("/dev/null", "w");
    code = launch_local(options).exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "launcher: %s\n", e.what());
  }
  std::_Exit(code);
}

// Waits until launcher `pid` has both workers in their cgroups (5 s idle at most).
bool workers_started(pid_t pid) {
  const CgroupParent parent = find_memory_cgroup_parent("--emulate", "drop --emulate");
  const fs::path procs = parent.dir / fmt::format("edgegnn-{}-rank1", pid) / "cgroup.procs";
  const auto deadline = Clock::now() + std::chrono::duration<double>(scaled_seconds(5));
  while (Clock::now() < deadline) {
    std::ifstream in(procs);
    if (pid_t worker; in >> worker) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// Waits until no process is left in launcher `pid`'s cgroups (5 s idle at most).
bool cgroups_empty(pid_t pid) {
  const CgroupParent parent = find_memory_cgroup_parent("--emulate", "drop --emulate");
  const auto deadline = Clock::now() + std::chrono::duration<double>(scaled_seconds(5));
  while (Clock::now() < deadline) {
    bool empty = true;
    for (int rank : {0, 1}) {
      std::ifstream in(parent.dir / fmt::format("edgegnn-{}-rank{}", pid, rank) / "cgroup.procs");
      if (pid_t worker; in >> worker) empty = false;
    }
    if (empty) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// The launcher's wait status, or -1 if it runs on for `seconds`.
int wait_for(pid_t pid, double seconds) {
  for (auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
       Clock::now() < deadline;) {
    int status;
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return -1;
}

class StoppedLauncher : public testing::TestWithParam<int> {};

TEST_P(StoppedLauncher, LeavesNoNamespaceOrCgroupBehind) {
  SKIP_WITHOUT_EMULATION();
  const int signal = GetParam();
  const pid_t launcher = fork_sleeping_launcher();
  ASSERT_TRUE(workers_started(launcher));
  EXPECT_EQ(leftovers_of(launcher).size(), 5u);  // switch, two boards, two cgroups
  ::kill(launcher, signal);
  const int status = wait_for(launcher, scaled_seconds(10));
  ASSERT_NE(status, -1) << "the launcher did not stop within " << scaled_seconds(10)
                        << " s of signal " << signal;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 128 + signal) << status;
  EXPECT_EQ(leftovers_of(launcher), std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(EmulatedBoards, StoppedLauncher, testing::Values(SIGTERM, SIGINT),
                         [](const testing::TestParamInfo<int>& info) {
                           return info.param == SIGTERM ? "Sigterm" : "Sigint";
                         });

TEST(EmulatedBoards, TheNextLaunchRemovesWhatASigkilledLauncherLeft) {
  SKIP_WITHOUT_EMULATION();
  const pid_t launcher = fork_sleeping_launcher();
  ASSERT_TRUE(workers_started(launcher));
  ::kill(launcher, SIGKILL);
  ASSERT_NE(wait_for(launcher, scaled_seconds(5)), -1);
  EXPECT_EQ(leftovers_of(launcher).size(), 5u);
  // Its workers die with it (PR_SET_PDEATHSIG); a cgroup is removable once empty.
  EXPECT_TRUE(cgroups_empty(launcher));
  const LaunchRun next = launch({"true"}, {parse_board("zero2w", "--emulate")}, /*num_workers=*/1);
  EXPECT_TRUE(next.result.ok()) << next.result.message;
  EXPECT_EQ(leftovers_of(launcher), std::vector<std::string>{});
}

}  // namespace
}  // namespace edgegnn::runtime
