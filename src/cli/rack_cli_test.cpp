// `edgegnn launch --emulate`: the emulated rack, boards reached over ssh as
// real hosts are (runtime/emulated_rack.h). Needs root, network namespaces,
// memory cgroups and openssh-server; skips with the reason where one lacks.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "runtime/board_network.h"
#include "runtime/cgroup.h"
#include "runtime/emulated_rack.h"
#include "test_support/datasets.h"
#include "test_support/process.h"

namespace edgegnn {
namespace {

namespace fs = std::filesystem;
using test::CommandResult;

const std::string& rack_unavailable() {
  static const std::string reason = [] {
    try {
      runtime::EmulatedRack probe({runtime::parse_board("pi4-1g", "--emulate")}, "--emulate");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  }();
  return reason;
}

#define SKIP_WITHOUT_RACK()                                            \
  if (!rack_unavailable().empty()) GTEST_SKIP() << rack_unavailable(); \
  static_assert(true)

// "test accuracy 0.8946 ..." -> "0.8946".
std::string test_accuracy(const std::string& output) {
  std::smatch match;
  return std::regex_search(output, match, std::regex("test accuracy ([0-9.]+)")) ? match[1].str()
                                                                               : "none";
}

// What launcher `pid` left: namespaces, memory cgroups, its rack directory, sshds.
std::vector<std::string> leftovers_of(pid_t pid) {
  std::vector<std::string> left;
  const std::string prefix = fmt::format("edgegnn-{}-", pid);
  for (const std::string& name : runtime::list_board_namespaces())
    if (name.starts_with(prefix)) left.push_back("netns " + name);
  const runtime::CgroupParent parent = runtime::find_memory_cgroup_parent("--emulate", "");
  for (const auto& entry : fs::directory_iterator(parent.dir))
    if (entry.path().filename().string().starts_with(prefix))
      left.push_back("cgroup " + entry.path().string());
  for (const fs::path& dir : runtime::list_rack_directories())
    if (dir.filename() == fmt::format("edgegnn-rack-{}", pid)) left.push_back(dir.string());
  std::string sshd;
  test::run_command(fmt::format("pgrep -f -- '[e]dgegnn-rack-{}/' || true", pid), &sshd);
  if (!sshd.empty()) left.push_back("processes " + sshd);
  return left;
}

// The rack reached over ssh trains a staged 3-part partition to the accuracy
// the local launcher gives, on gloo and on mpi.
TEST(EmulatedRack, StagesAPartitionAndTrainsAsTheLocalLauncherOverGlooAndMpi) {
  SKIP_WITHOUT_RACK();
  const fs::path dir = test::scratch_dir("rack-train");
  const std::string parts = (dir / "mini-parts").string();
  ASSERT_EQ(test::run_edgegnn("partition --dataset synthetic-reddit-mini --parts 3 --out " + parts)
                .exit_code,
            0);
  const std::string train = " --dataset synthetic-reddit-mini --root " + parts +
                            " --strategy partition --epochs 1 --threads 1";
  CommandResult local = test::run_edgegnn("train --devices 3" + train);
  ASSERT_EQ(local.exit_code, 0) << local.output;
  const std::string expected = test_accuracy(local.output);
  ASSERT_NE(expected, "none") << local.output;

  CommandResult gloo = test::run_edgegnn("launch --emulate pi4-1g --devices 3 --stage -- train" + train);
  ASSERT_EQ(gloo.exit_code, 0) << gloo.output;
  EXPECT_EQ(test_accuracy(gloo.output), expected) << gloo.output;
  for (int k = 0; k < 3; ++k)
    EXPECT_NE(gloo.output.find(fmt::format("stage: 10.213.0.{}: part {} (", k + 1, k)),
              std::string::npos)
        << gloo.output;
  // A port free on the first board, asked over ssh.
  EXPECT_TRUE(std::regex_search(gloo.output,
                                std::regex("launch: 3 ranks on 3 hosts, rank 0 at 10\\.213\\.0\\.1:[1-9][0-9]+\n")))
      << gloo.output;

  // MPI's allreduce sums in another order than gloo's ring: its local run is
  // the reference (the two differ in the last float bits, enough to flip a
  // test node now and then).
  CommandResult local_mpi = test::run_edgegnn("train --devices 3" + train + " --backend mpi");
  ASSERT_EQ(local_mpi.exit_code, 0) << local_mpi.output;
  CommandResult mpi = test::run_edgegnn("launch --emulate pi4-1g --devices 3 --stage -- train" +
                                        train + " --backend mpi");
  ASSERT_EQ(mpi.exit_code, 0) << mpi.output;
  EXPECT_EQ(test_accuracy(mpi.output), test_accuracy(local_mpi.output)) << mpi.output;
  EXPECT_EQ(mpi.output.find("ERROR"), std::string::npos) << mpi.output;
}

// `train --emulate --backend mpi` runs mpirun on the rack, and a board's OOM
// kill is reported as the local launcher reports it, with the board's host.
TEST(EmulatedRack, TrainEmulateWithMpiRunsOnTheRackAndReportsAnOomKill) {
  SKIP_WITHOUT_RACK();
  const fs::path metrics = test::scratch_dir("rack-mpi") / "metrics.json";
  CommandResult run = test::run_edgegnn(
      "train --quiet --dataset synthetic-tiny --strategy data --devices 2 --epochs 2 --emulate "
      "pi4-1g,zero2w --backend mpi --metrics-out " + metrics.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::ifstream in(metrics);
  const nlohmann::json m = nlohmann::json::parse(in);
  EXPECT_EQ(m["backend"], "mpi");
  ASSERT_EQ(m["per_device"].size(), 2u);
  EXPECT_EQ(m["per_device"][0]["parameter_checksum"], m["per_device"][1]["parameter_checksum"]);

  // A rank's anonymous memory (torch's and a batch's) does not fit in 128 MiB.
  // At 256 MiB it did once in a few runs: the mapped features and libraries
  // were evicted instead, and the run finished.
  run = test::run_edgegnn(
      "train --dataset synthetic-reddit-mini --strategy data --devices 2 --epochs 1 --emulate "
      "custom:256MiB/1gbit --backend mpi");
  EXPECT_EQ(run.exit_code, 137) << run.output;
  EXPECT_TRUE(std::regex_search(
      run.output,
      std::regex("edgegnn: error: rank [01] \\(10\\.213\\.0\\.[12] on custom:256MiB/1gbit\\) was "
                 "killed by the out-of-memory killer at its 256 MiB board limit \\(128 MiB after "
                 "the 128 MiB OS reserve\\)\n")))
      << run.output;
}

// A board's worker killed from outside: the run stops and names the rank with
// its board's address and kind; then a Ctrl-C mid-run leaves nothing behind.
TEST(EmulatedRack, NamesAKilledBoardAndCtrlCLeavesNothingBehind) {
  SKIP_WITHOUT_RACK();
  const fs::path dir = test::scratch_dir("rack-stop");
  const std::string run_forever =
      test::edgegnn_binary() +
      " launch --emulate pi4-1g --devices 3 -- train --dataset synthetic-tiny --strategy data "
      "--threads 1 --epochs 1000000 --checkpoint " +
      (dir / "ckpt").string();
  {
    test::BackgroundCommand run(run_forever, dir / "kill.log");
    ASSERT_TRUE(run.wait_for_output("epoch 2/", 120)) << run.output();
    std::string pid;
    // This run's edgegnn whose environment says rank 1 (the launcher's has no RANK).
    test::run_command("for p in $(pgrep -x edgegnn); do grep -q " + (dir / "ckpt").string() +
                          " /proc/$p/cmdline && tr '\\0' '\\n' < /proc/$p/environ | "
                          "grep -qx RANK=1 && echo $p; done",
                      &pid);
    ASSERT_FALSE(pid.empty()) << "no worker of rank 1";
    ASSERT_EQ(::kill(std::stoi(pid), SIGKILL), 0);
    EXPECT_EQ(run.wait(60), 137) << run.output();
    EXPECT_NE(run.output().find("edgegnn: error: rank 1 (10.213.0.2 on pi4-1g) exited with code "
                                "137"),
              std::string::npos)
        << run.output();
    EXPECT_EQ(leftovers_of(run.pid()), std::vector<std::string>{});
  }
  test::BackgroundCommand run(run_forever, dir / "interrupt.log");
  ASSERT_TRUE(run.wait_for_output("epoch 2/", 120)) << run.output();
  ::kill(run.pid(), SIGINT);
  EXPECT_EQ(run.wait(60), 128 + SIGINT) << run.output();
  EXPECT_NE(run.output().find("interrupted by SIGINT; stopped 3 running workers"),
            std::string::npos)
      << run.output();
  EXPECT_EQ(leftovers_of(run.pid()), std::vector<std::string>{});
}

}  // namespace
}  // namespace edgegnn
