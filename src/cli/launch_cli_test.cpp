// End-to-end tests of `edgegnn launch --hosts`: workers started through ssh,
// here a stand-in ssh that runs the remote command on this machine in a
// session of its own, as a host would: the launcher reaches its workers only
// through ssh, and stops them only by closing their stdin.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/parallel.h"
#include "runtime/launcher.h"
#include "test_support/datasets.h"
#include "test_support/process.h"

namespace edgegnn {
namespace {

namespace fs = std::filesystem;
using test::CommandResult;

struct Rack {
  fs::path dir, ssh, log;
};

// A hostfile of `hosts` and an ssh that logs each destination, fails as an
// unreachable host does (exit 255) for `unreachable`, and else runs the
// command (its words joined, as ssh joins them) with sh in a new session, in
// the host's own home: homes/<host> in the rack's directory.
Rack make_rack(const std::string& name, const std::string& hosts,
               const std::string& unreachable = "none") {
  Rack rack;
  rack.dir = test::scratch_dir(name);
  rack.log = rack.dir / "ssh.log";
  rack.ssh = rack.dir / "ssh";
  std::ofstream(rack.dir / "hosts") << hosts;
  std::ofstream(rack.ssh) << "#!/bin/sh\n"
                             "while :; do case $1 in -o|-p|-l|-i) shift 2 ;; -*) shift ;; *) break ;; esac; done\n"
                             "host=$1; shift\n"
                             "echo \"$host\" >> " << rack.log.string() << "\n"
                             "[ \"$host\" = " << unreachable << " ] && { echo \"ssh: connect to host $host: "
                             "No route to host\" >&2; exit 255; }\n"
                             "home=" << (rack.dir / "homes").string() << "/$host\n"
                             "mkdir -p \"$home\" && cd \"$home\" && exec setsid -w sh -c \"$*\"\n";
  fs::permissions(rack.ssh, fs::perms::owner_all);
  return rack;
}

std::string launch_flags(const Rack& rack, bool quiet = true) {
  return std::string(quiet ? "launch --quiet" : "launch") + " --hosts " + (rack.dir / "hosts").string() + " --ssh " + rack.ssh.string() +
         " --remote-edgegnn " + test::edgegnn_binary() + " --master-port " +
         std::to_string(runtime::find_free_port("127.0.0.1"));
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The processes whose command line matches `pattern` (a pgrep regex that
// must not match itself), waiting up to 5 s for them to end: "" when none is left.
std::string left_running(const std::string& pattern) {
  std::string left;
  for (int i = 0; i < 50; ++i) {
    test::run_command("pgrep -f -- '" + pattern + "' || true", &left);
    if (left.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return left;
}

TEST(Launch, RunsTrainOnEveryHostSlotAndBringsTheMetricsBack) {
  const Rack rack = make_rack("launch-rack", "# two hosts, three ranks\nlocalhost\n127.0.0.1 2\n");
  const fs::path metrics = rack.dir / "metrics.json";
  CommandResult run = test::run_edgegnn(
      launch_flags(rack) + " -- train --quiet --dataset synthetic-tiny --strategy data --epochs 2 "
      "--metrics-out " + metrics.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(read_file(rack.log), "localhost\n127.0.0.1\n127.0.0.1\nlocalhost\n")
      << "three workers, then the metrics fetched from rank 0's host";
  const auto m = nlohmann::json::parse(read_file(metrics));
  ASSERT_EQ(m["per_device"].size(), 3u);
  EXPECT_EQ(m["per_device"][0]["parameter_checksum"], m["per_device"][2]["parameter_checksum"]);
  EXPECT_EQ(m["epochs"].size(), 2u);
}

// With --backend mpi, mpirun starts the ranks from the same hosts, reaching
// the other hosts through the same ssh; the metrics come back as with gloo.
TEST(Launch, RunsMpiRanksUnderMpirunFromTheSameHostfile) {
  const Rack rack = make_rack("launch-mpi", "localhost\n127.0.0.2 slots=1\n");
  const fs::path metrics = rack.dir / "metrics.json";
  CommandResult run = test::run_edgegnn(
      launch_flags(rack) + " -- train --quiet --dataset synthetic-tiny --strategy data --epochs 2 "
      "--backend mpi --metrics-out=" + metrics.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto m = nlohmann::json::parse(read_file(metrics));
  EXPECT_EQ(m["backend"], "mpi");
  ASSERT_EQ(m["per_device"].size(), 2u);
  EXPECT_EQ(m["per_device"][0]["parameter_checksum"], m["per_device"][1]["parameter_checksum"]);
  EXPECT_EQ(read_file(rack.log), "127.0.0.2\nlocalhost\n")
      << "mpirun reached the other host by ssh, then the metrics came back";
  std::ofstream(rack.dir / "hosts") << "localhost:2222 2\n";
  run = test::run_edgegnn(launch_flags(rack) +
                          " -- train --quiet --dataset synthetic-tiny --backend mpi --strategy data");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.output, "edgegnn: error: " + (rack.dir / "hosts").string() +
                            " line 1: with --backend mpi, mpirun reaches the hosts and takes no "
                            "port: give it in your ssh config\n");
}

TEST(Launch, AnUnreachableHostStopsEveryWorkerAndIsNamed) {
  const Rack rack = make_rack("launch-down", "localhost\n127.0.0.2\n127.0.0.1\n", "127.0.0.2");
  // Ranks 0 and 2 start and wait for rank 1, which never comes.
  const std::string marker = (rack.dir / "never").string();
  const std::string pattern = (rack.dir / "[n]ever").string();  // matches no pgrep's own shell
  const auto start = std::chrono::steady_clock::now();
  CommandResult run = test::run_edgegnn(
      launch_flags(rack) + " -- train --quiet --dataset synthetic-tiny --strategy data "
      "--comm-timeout 300 --checkpoint " + marker);
  EXPECT_EQ(run.exit_code, 255) << run.output;
  EXPECT_NE(run.output.find("[rank 1] ssh: connect to host 127.0.0.2: No route to host"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("edgegnn: error: rank 1 (127.0.0.2) exited with code 255\n"),
            std::string::npos)
      << run.output;
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 60);
  // The workers on the other hosts, outside the launcher's process groups,
  // were stopped through their closed stdin.
  EXPECT_EQ(left_running(pattern), "") << "workers left running";
}

TEST(Launch, CtrlCStopsEveryWorkerOnEveryHost) {
  const Rack rack = make_rack("launch-interrupt", "localhost 2\n127.0.0.1\n");
  const std::string marker = (rack.dir / "ckpt").string();
  test::BackgroundCommand run(
      test::edgegnn_binary() + " " + launch_flags(rack) +
          " -- train --dataset synthetic-tiny --strategy data --epochs 1000000 --checkpoint " +
          marker,
      rack.dir / "launch.log");
  ASSERT_TRUE(run.wait_for_output("epoch 2/", 120)) << run.output();
  ::kill(run.pid(), SIGINT);
  EXPECT_EQ(run.wait(60), 128 + SIGINT) << run.output();
  EXPECT_NE(run.output().find("edgegnn: error: interrupted by SIGINT; stopped 3 running workers"),
            std::string::npos)
      << run.output();
  EXPECT_EQ(left_running((rack.dir / "[c]kpt").string()), "") << "workers left running";
  // Two workers on one host share its cores.
  EXPECT_NE(run.output().find(fmt::format("on {} threads", std::max(1, available_cores() / 2))),
            std::string::npos)
      << run.output();
}

// --stage: each host gets partition.json and its ranks' parts, nothing else;
// staging again copies nothing.
TEST(Launch, StagesEachHostItsPartsAndSkipsWhatIsThere) {
  const Rack rack = make_rack("launch-stage", "localhost\n127.0.0.1 2\n");
  const fs::path parts = rack.dir / "tiny-parts";
  ASSERT_EQ(test::run_edgegnn("partition --dataset synthetic-tiny --parts 3 --out " +
                              parts.string()).exit_code, 0);
  const std::string command =
      launch_flags(rack, false) + " --stage -- train --quiet --dataset synthetic-tiny --root " +
      parts.string() + " --strategy partition --epochs 2";
  CommandResult run = test::run_edgegnn(command);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const fs::path first = rack.dir / "homes/localhost/edgegnn-data/tiny-parts";
  const fs::path second = rack.dir / "homes/127.0.0.1/edgegnn-data/tiny-parts";
  EXPECT_TRUE(fs::exists(first / "partition.json"));
  EXPECT_TRUE(fs::exists(first / "part-0/manifest.json"));
  EXPECT_FALSE(fs::exists(first / "part-1"));
  EXPECT_FALSE(fs::exists(second / "part-0"));
  EXPECT_TRUE(fs::exists(second / "part-1/manifest.json"));
  EXPECT_TRUE(fs::exists(second / "part-2/manifest.json"));
  EXPECT_NE(run.output.find("stage: 127.0.0.1: part 1, 2 ("), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("test accuracy"), std::string::npos) << run.output;

  run = test::run_edgegnn(command);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("stage: localhost: copied 0 file(s), 0.0 MiB, in "), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("s; 10 already there"), std::string::npos) << run.output;

  run = test::run_edgegnn(launch_flags(rack) +
                          " --stage -- train --dataset synthetic-tiny --strategy data");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.output,
            "edgegnn: error: --stage: the train command has no --root: synthetic datasets are made "
            "on each host, there is nothing to copy (drop --stage)\n");
}

// A rack needs no root: the launcher, ssh and the workers run as the user.
TEST(Launch, RunsAsAnUnprivilegedUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "not root: every other test here runs unprivileged";
  const Rack rack = make_rack("launch-user", "localhost\n127.0.0.1\n");
  fs::permissions(rack.dir, fs::perms::all);
  fs::permissions(rack.ssh, fs::perms::all);
  std::string output;
  const int code = test::run_command(
      "setpriv --reuid=65534 --regid=65534 --clear-groups " + test::edgegnn_binary() + " " +
          launch_flags(rack) + " -- train --quiet --dataset synthetic-tiny --strategy data "
          "--epochs 2",
      &output);
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("test accuracy"), std::string::npos) << output;
  EXPECT_EQ(read_file(rack.log), "localhost\n127.0.0.1\n");
}

TEST(Launch, RefusesBadHostfilesAndLauncherFlagsInOneLine) {
  const Rack rack = make_rack("launch-bad", "pi0\npi1 zero\n");
  CommandResult run = test::run_edgegnn(launch_flags(rack) + " -- train --dataset synthetic-tiny");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.output, "edgegnn: error: " + (rack.dir / "hosts").string() +
                            " line 2: 'zero' is not a positive number of slots\n");
  std::ofstream(rack.dir / "hosts") << "pi0\n";
  run = test::run_edgegnn(launch_flags(rack) + " -- train --dataset synthetic-tiny --devices 4");
  EXPECT_EQ(run.output,
            "edgegnn: error: launch: drop --devices from the train command: the hostfile sets it\n");
  run = test::run_edgegnn(launch_flags(rack) + " -- plan --dataset synthetic-tiny");
  EXPECT_EQ(run.output,
            "edgegnn: error: launch: give the run after --, as 'edgegnn launch --hosts FILE -- "
            "train ...'\n");
  EXPECT_EQ(read_file(rack.log), "") << "no host was reached";
}

}  // namespace
}  // namespace edgegnn
