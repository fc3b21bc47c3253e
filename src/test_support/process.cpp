#include "test_support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace edgegnn::test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

BackgroundCommand::BackgroundCommand(const std::string& command, fs::path log)
    : log_(std::move(log)) {
  // Built before fork: the child of a threaded process only makes system calls.
  const std::string exec = "exec " + command;
  pid_ = ::fork();
  if (pid_ != 0) return;
  const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::dup2(fd, STDOUT_FILENO);
  ::dup2(fd, STDERR_FILENO);
  ::execl("/bin/sh", "sh", "-c", exec.c_str(), static_cast<char*>(nullptr));
  ::_exit(127);
}

BackgroundCommand::~BackgroundCommand() {
  if (done_ || pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  reap(/*block=*/true);
}

std::string BackgroundCommand::output() const {
  std::ifstream in(log_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool BackgroundCommand::reap(bool block) {
  if (done_) return true;
  int status = 0;
  if (::waitpid(pid_, &status, block ? 0 : WNOHANG) != pid_) return false;
  done_ = true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

bool BackgroundCommand::wait_for_output(const std::string& text, double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    // Read once more after it ends: its last lines may have come with its end.
    const bool ended = reap(/*block=*/false);
    if (output().find(text) != std::string::npos) return true;
    if (ended) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int BackgroundCommand::wait(double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (!reap(/*block=*/false)) {
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_code_;
}

pid_t child_with_environment(pid_t parent, const std::string& entry) {
  for (const auto& dir : fs::directory_iterator("/proc")) {
    const std::string name = dir.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    // The parent pid is the 4th field of stat, after the command in parentheses.
    std::ifstream stat(dir.path() / "stat");
    std::string text;
    if (!std::getline(stat, text)) continue;
    const size_t close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(text.substr(close + 2));
    std::string state;
    pid_t ppid = -1;
    fields >> state >> ppid;
    if (ppid != parent) continue;
    std::ifstream environ(dir.path() / "environ", std::ios::binary);
    for (std::string variable; std::getline(environ, variable, '\0');)
      if (variable == entry) return std::stoi(name);
  }
  return -1;
}

}  // namespace edgegnn::test
