#include "runtime/hostfile.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>

#include "core/error.h"
#include "test_support/errors.h"

namespace edgegnn::runtime {
namespace {

using test::error_of;

TEST(Hostfile, ReadsHostsUsersPortsAndSlotsInFileOrder) {
  const std::vector<Host> hosts = parse_hostfile(
      "# the rack\n"
      "pi0\n"
      "\n"
      "  pi@pi1:2222   # a comment after it\n"
      "pi2 2\n"
      "10.0.0.3 slots=3\n",
      "hosts");
  ASSERT_EQ(hosts.size(), 4u);
  EXPECT_EQ(hosts[0].destination(), "pi0");
  EXPECT_EQ(hosts[0].port, 0);
  EXPECT_EQ(hosts[0].slots, 1);
  EXPECT_EQ(hosts[1].user, "pi");
  EXPECT_EQ(hosts[1].name, "pi1");
  EXPECT_EQ(hosts[1].port, 2222);
  EXPECT_EQ(hosts[1].destination(), "pi@pi1");
  EXPECT_EQ(hosts[1].line, 4);
  EXPECT_EQ(hosts[2].slots, 2);
  EXPECT_EQ(hosts[3].name, "10.0.0.3");
  EXPECT_EQ(hosts[3].slots, 3);
}

TEST(Hostfile, RefusesMalformedLinesNamingFileAndLine) {
  auto error = [](const std::string& text) {
    return error_of([&] { parse_hostfile(text, "rack.txt"); });
  };
  EXPECT_EQ(error("pi0\npi1 0\n"), "rack.txt line 2: '0' is not a positive number of slots");
  EXPECT_EQ(error("pi0 two\n"), "rack.txt line 1: 'two' is not a positive number of slots");
  EXPECT_EQ(error("pi0:ssh\n"), "rack.txt line 1: 'ssh' is not a port");
  EXPECT_EQ(error("pi0:70000\n"), "rack.txt line 1: '70000' is not a port");
  EXPECT_EQ(error("pi0 2 extra\n"), "rack.txt line 1: 'extra' after the host and its slots");
  EXPECT_EQ(error("p;i0\n"), "rack.txt line 1: 'p;i0' is not a host name");
  EXPECT_EQ(error("@pi0\n"), "rack.txt line 1: '' is not a user name");
  EXPECT_EQ(error_of([] { read_hostfile("/nonexistent/hosts"); }),
            "--hosts: cannot read /nonexistent/hosts");
}

TEST(Hostfile, QuotesWordsForAPosixShell) {
  EXPECT_EQ(shell_quote("plain"), "'plain'");
  EXPECT_EQ(shell_quote("it's $HOME"), "'it'\\''s $HOME'");
  EXPECT_EQ(shell_quote(""), "''");
}

struct ShellRun {
  std::string output;
  int exit_code = -1;
  double seconds = 0;
};

// `remote` as a host's shell runs it, its stdin a pipe that closes after
// `stdin_seconds`, as ssh's closes when the launcher stops the worker.
ShellRun run_as_remote(const std::string& remote, int stdin_seconds) {
  const std::string line =
      "sleep " + std::to_string(stdin_seconds) + " | /bin/sh -c " + shell_quote(remote);
  const auto start = std::chrono::steady_clock::now();
  ShellRun run;
  std::FILE* pipe = ::popen(line.c_str(), "r");
  char buffer[256];
  size_t got;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) run.output.append(buffer, got);
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

TEST(Hostfile, SshCommandRunsTheWorkerWithItsEnvironmentAndStopsItWhenStdinCloses) {
  Host host;
  host.user = "pi";
  host.name = "pi1";
  host.port = 2222;
  const std::vector<std::string> argv =
      ssh_command({"ssh", "-o", "BatchMode=yes"}, host, {{"RANK", "3"}, {"NOTE", "it's"}},
                  {"sh", "-c", "echo rank=$RANK note=$NOTE; exit 7"});
  ASSERT_EQ(argv.size(), 7u);
  EXPECT_EQ(std::vector<std::string>(argv.begin(), argv.end() - 1),
            (std::vector<std::string>{"ssh", "-o", "BatchMode=yes", "-p", "2222", "pi@pi1"}));
  const ShellRun done = run_as_remote(argv.back(), 1);
  EXPECT_EQ(done.output, "rank=3 note=it's\n");
  EXPECT_EQ(done.exit_code, 7);

  // A worker still running when its stdin closes gets SIGTERM.
  const std::vector<std::string> slow = ssh_command({"ssh"}, host, {}, {"sleep", "30"});
  const ShellRun stopped = run_as_remote(slow.back(), 1);
  EXPECT_EQ(stopped.exit_code, 128 + SIGTERM);
  EXPECT_LT(stopped.seconds, 10);
}

}  // namespace
}  // namespace edgegnn::runtime
