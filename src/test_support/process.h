// Commands run in the background, for tests that act while they run: signal
// a worker once the run has printed that it trains, then see how it ends.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace edgegnn::test {

// `command` run by /bin/sh (exec'd, so pid() is the command's own process),
// with stdout and stderr in `log`. SIGKILLed when destroyed if still running.
class BackgroundCommand {
 public:
  BackgroundCommand(const std::string& command, std::filesystem::path log);
  ~BackgroundCommand();
  BackgroundCommand(const BackgroundCommand&) = delete;
  BackgroundCommand& operator=(const BackgroundCommand&) = delete;

  pid_t pid() const { return pid_; }
  // Everything it has written so far.
  std::string output() const;
  // Waits until its output contains `text`: false if it ends first or
  // `seconds` pass.
  bool wait_for_output(const std::string& text, double seconds);
  // Waits for it to end: its exit code (128 + signal when killed), or -1 if
  // it is still running after `seconds`.
  int wait(double seconds);

 private:
  bool reap(bool block);
  std::filesystem::path log_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
  bool done_ = false;
};

// The child process of `parent` whose environment holds `entry` (such as
// "RANK=2"), or -1 when there is none.
pid_t child_with_environment(pid_t parent, const std::string& entry);

}  // namespace edgegnn::test
