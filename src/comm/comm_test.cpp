// Multi-rank tests: each starts a group of comm_test_worker processes on
// loopback (gloo: one process per rank; mpi: under mpirun), each under a
// deadline, and checks what every rank reports. The workers check the values
// themselves (see comm_test_worker.cpp) and print one line per rank.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test_support/time_factor.h"

namespace {

using Clock = std::chrono::steady_clock;
using edgegnn::test::scaled_seconds;

constexpr int kRanks = 3;
constexpr int kTimeoutMs = 3000;
// The rendezvous' bound where a test times it.
const double kJoinSeconds = scaled_seconds(3);
// What a failing call may take beyond the timeout: gloo's heartbeat waits up
// to four beats of 500 ms, mpi's roll call 2 s; plus scheduling, which a
// loaded machine stretches.
const double kDiagnosisSeconds = 2.0 + scaled_seconds(1);
// Startup of a group (loading libtorch, mpirun) plus the work, per run.
const auto kRunDeadline = std::chrono::duration<double>(scaled_seconds(30));

// A port that was free a moment ago: bind port 0 and read what the kernel chose.
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Process {
  pid_t pid = -1;
  std::filesystem::path log;
  int exit_code = -1;  // 128 + signal when killed
  bool done = false;
};

// Starts argv[0] in its own process group with stdout and stderr in `log`.
Process spawn(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  Process process;
  process.log = log;
  process.pid = fork();
  if (process.pid == 0) {
    setpgid(0, 0);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  return process;
}

// Waits until every process not in `leave_running` has exited or the deadline
// passes, then kills and reaps the rest (a stopped victim, or a hung run).
void wait_all(std::vector<Process>& processes, const std::vector<int>& leave_running = {}) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(kRunDeadline);
  auto awaited = [&](size_t i) {
    return std::find(leave_running.begin(), leave_running.end(), i) == leave_running.end();
  };
  while (Clock::now() < deadline) {
    bool waiting = false;
    for (size_t i = 0; i < processes.size(); ++i) {
      Process& p = processes[i];
      int status = 0;
      if (!p.done && waitpid(p.pid, &status, WNOHANG) == p.pid) {
        p.done = true;
        p.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      waiting |= !p.done && awaited(i);
    }
    if (!waiting) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (Process& p : processes) {
    if (p.done) continue;
    kill(-p.pid, SIGKILL);  // its whole group: mpirun's ranks too
    int status = 0;
    waitpid(p.pid, &status, 0);
    p.done = true;
    p.exit_code = 128 + SIGKILL;
  }
}

struct GroupRun {
  std::string output;           // every rank's lines
  std::vector<int> exit_codes;  // gloo: per rank; mpi: mpirun's alone
};

// Runs `scenario` on a group of `num_ranks` ranks of `backend`; `victim` is
// the rank the scenario takes down. Gloo starts the ranks listed in `ranks`
// (default: all).
GroupRun run_group(const std::string& backend, const std::string& scenario, int victim = -1,
                   int num_ranks = kRanks, std::vector<int> ranks = {}) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("edgegnn-comm-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  // Every rank loads libtorch before it reaches the store, which a busy
  // machine stretches past kTimeoutMs; the join scenario times the wait.
  const int join_timeout_ms = (scenario == "join" ? kJoinSeconds : scaled_seconds(20)) * 1000;
  const std::vector<std::string> common = {"--scenario",        scenario,
                                           "--backend",         backend,
                                           "--timeout-ms",      std::to_string(kTimeoutMs),
                                           "--join-timeout-ms", std::to_string(join_timeout_ms),
                                           "--victim",          std::to_string(victim)};
  std::vector<Process> processes;
  std::vector<int> leave_running;
  if (backend == "mpi") {
    // As root, OpenMPI refuses to start without --allow-run-as-root.
    std::vector<std::string> argv = {"mpirun", "--allow-run-as-root",     "--oversubscribe",
                                     "-np",    std::to_string(num_ranks), EDGEGNN_COMM_WORKER};
    argv.insert(argv.end(), common.begin(), common.end());
    processes.push_back(spawn(argv, dir / "mpirun.log"));
  } else {
    if (ranks.empty()) {
      for (int r = 0; r < num_ranks; ++r) ranks.push_back(r);
    }
    const std::string port = std::to_string(free_port());
    for (int r : ranks) {
      std::vector<std::string> argv = {EDGEGNN_COMM_WORKER,
                                       "--rank",
                                       std::to_string(r),
                                       "--size",
                                       std::to_string(num_ranks),
                                       "--port",
                                       port};
      argv.insert(argv.end(), common.begin(), common.end());
      if (r == victim && (scenario == "stop" || scenario == "stall"))
        leave_running.push_back(processes.size());
      processes.push_back(spawn(argv, dir / ("rank" + std::to_string(r) + ".log")));
    }
  }
  wait_all(processes, leave_running);
  GroupRun run;
  for (const Process& p : processes) {
    run.output += read_file(p.log);
    run.exit_codes.push_back(p.exit_code);
  }
  std::filesystem::remove_all(dir);
  return run;
}

bool have_mpirun() { return std::system("command -v mpirun > /dev/null 2>&1") == 0; }

// The seconds rank `rank` reports its call took to fail, with the message, or
// -1 when it reports no failure.
double failure_seconds(const GroupRun& run, int rank, std::string* message) {
  const std::regex line("error after ([0-9.]+) s: (rank " + std::to_string(rank) + ": [^\n]*)");
  std::smatch match;
  if (!std::regex_search(run.output, match, line)) return -1;
  *message = match[2];
  return std::stod(match[1]);
}

// Every rank but `victim` failed its call within the timeout plus the time to
// diagnose, with a message that names the operation and the victim.
void expect_survivors_name(const GroupRun& run, int victim, const std::string& op,
                           const std::string& why) {
  for (int r = 0; r < kRanks; ++r) {
    if (r == victim) continue;
    std::string message;
    const double seconds = failure_seconds(run, r, &message);
    ASSERT_GE(seconds, 0) << "rank " << r << " reported no failure:\n" << run.output;
    EXPECT_LE(seconds, kTimeoutMs / 1000.0 + kDiagnosisSeconds) << message;
    EXPECT_NE(message.find(op), std::string::npos) << message;
    EXPECT_NE(message.find("waiting for rank " + std::to_string(victim) + " (" + why),
              std::string::npos)
        << message;
  }
}

class CommunicatorTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "mpi" && !have_mpirun()) GTEST_SKIP() << "mpirun not found";
  }
};

TEST_P(CommunicatorTest, CollectivesGiveExactValuesAndByteCountsOnEveryRank) {
  const GroupRun run = run_group(GetParam(), "collectives");
  for (int r = 0; r < kRanks; ++r) {
    EXPECT_NE(run.output.find("rank " + std::to_string(r) + ": ok"), std::string::npos)
        << run.output;
  }
  for (int code : run.exit_codes) EXPECT_EQ(code, 0) << run.output;
}

TEST_P(CommunicatorTest, GroupOfOneRunsCollectivesAlone) {
  const GroupRun run = run_group(GetParam(), "collectives", /*victim=*/-1, /*num_ranks=*/1);
  EXPECT_NE(run.output.find("rank 0: ok"), std::string::npos) << run.output;
  EXPECT_EQ(run.exit_codes[0], 0) << run.output;
}

TEST_P(CommunicatorTest, PointToPointMatchesPeerAndTag) {
  const GroupRun run = run_group(GetParam(), "point_to_point");
  for (int r = 0; r < kRanks; ++r) {
    EXPECT_NE(run.output.find("rank " + std::to_string(r) + ": ok"), std::string::npos)
        << run.output;
  }
  for (int code : run.exit_codes) EXPECT_EQ(code, 0) << run.output;
}

TEST_P(CommunicatorTest, ChannelRunsBesideTheCommunicatorFromAnotherThread) {
  const GroupRun run = run_group(GetParam(), "channel");
  for (int r = 0; r < kRanks; ++r) {
    EXPECT_NE(run.output.find("rank " + std::to_string(r) + ": ok"), std::string::npos)
        << run.output;
  }
  for (int code : run.exit_codes) EXPECT_EQ(code, 0) << run.output;
}

TEST_P(CommunicatorTest, StoppedPeerMakesTheOthersTimeOutNamingIt) {
  const GroupRun run = run_group(GetParam(), "stop", /*victim=*/2);
  const std::string why = GetParam() == "mpi" ? "no answer to a roll call" : "no heartbeat";
  // The time is bounded in expect_survivors_name; under load it prints 3.1 s.
  expect_survivors_name(run, /*victim=*/2, "alltoallv #2 timed out after ", why);
  if (GetParam() == "gloo") {
    EXPECT_EQ(run.exit_codes[0], 2);
    EXPECT_EQ(run.exit_codes[1], 2);
  } else {
    EXPECT_NE(run.exit_codes[0], 0) << run.output;  // mpirun ends the job
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, CommunicatorTest, ::testing::Values("gloo", "mpi"),
                         [](const auto& info) { return info.param; });

TEST(GlooCommunicatorTest, KilledPeerMakesTheOthersFailNamingIt) {
  const GroupRun run = run_group("gloo", "die", /*victim=*/2);
  expect_survivors_name(run, /*victim=*/2, "allreduce #2 failed", "no heartbeat");
  EXPECT_EQ(run.exit_codes, (std::vector<int>{2, 2, 128 + SIGKILL})) << run.output;
}

TEST(GlooCommunicatorTest, StalledPeerIsNamedAsAliveButNotInTheCollective) {
  const GroupRun run = run_group("gloo", "stall", /*victim=*/2);
  // The time is bounded in expect_survivors_name; under load it prints 3.1 s.
  expect_survivors_name(run, /*victim=*/2, "alltoallv #2 timed out after ",
                        "alive, idle, at collective #1)");
}

TEST(GlooCommunicatorTest, KilledStoreHostIsNamedAsRankZero) {
  const GroupRun run = run_group("gloo", "die", /*victim=*/0);
  expect_survivors_name(run, /*victim=*/0, "allreduce #2 failed", "its rendezvous store");
  EXPECT_EQ(run.exit_codes, (std::vector<int>{128 + SIGKILL, 2, 2})) << run.output;
}

TEST(GlooCommunicatorTest, RendezvousNamesTheRankThatNeverComes) {
  const auto start = Clock::now();
  const GroupRun run = run_group("gloo", "join", /*victim=*/-1, kRanks, /*ranks=*/{0, 1});
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (int r : {0, 1}) {
    const std::regex message("rank " + std::to_string(r) +
                             ": gloo rendezvous at 127.0.0.1:[0-9]+: rank 2 did not join");
    EXPECT_TRUE(std::regex_search(run.output, message)) << run.output;
  }
  EXPECT_EQ(run.exit_codes, (std::vector<int>{2, 2})) << run.output;
  EXPECT_LE(seconds, kJoinSeconds + scaled_seconds(10)) << run.output;  // startup included
}

TEST(MpiCommunicatorTest, KilledPeerEndsTheJobAndMpirunNamesIt) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun not found";
  const GroupRun run = run_group("mpi", "die", /*victim=*/2);
  EXPECT_NE(run.exit_codes[0], 0) << run.output;
  EXPECT_NE(run.output.find("process rank 2"), std::string::npos) << run.output;
}

}  // namespace
