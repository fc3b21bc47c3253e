#include "runtime/run_tool.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

extern char** environ;

namespace edgegnn::runtime {

std::string run_tool(const std::vector<std::string>& args, std::string* out) {
  std::string command;
  for (const std::string& arg : args) command += (command.empty() ? "" : " ") + arg;
  int err[2];
  if (::pipe2(err, O_CLOEXEC) != 0) return fmt::format("`{}`: pipe failed", command);
  // stdout goes to a memory file, read once the tool has ended: no second pipe
  // to drain beside stderr's.
  const int out_fd = out ? ::memfd_create("stdout", MFD_CLOEXEC) : -1;
  if (out && out_fd < 0) {
    ::close(err[0]);
    ::close(err[1]);
    return fmt::format("`{}`: memfd_create failed", command);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (out)
    posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  else
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid;
  const int spawn_error = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(err[1]);
  if (spawn_error != 0) {
    ::close(err[0]);
    if (out_fd >= 0) ::close(out_fd);
    return fmt::format("cannot run '{}' ({})", args[0], std::strerror(spawn_error));
  }
  std::string output;
  char buffer[4096];
  for (ssize_t got; (got = ::read(err[0], buffer, sizeof buffer)) != 0;)
    if (got > 0)
      output.append(buffer, got);
    else if (errno != EINTR)
      break;
  ::close(err[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (out) {
    out->clear();
    ::lseek(out_fd, 0, SEEK_SET);
    for (ssize_t got; (got = ::read(out_fd, buffer, sizeof buffer)) != 0;)
      if (got > 0)
        out->append(buffer, got);
      else if (errno != EINTR)
        break;
    ::close(out_fd);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  std::replace(output.begin(), output.end(), '\n', ' ');
  while (!output.empty() && output.back() == ' ') output.pop_back();
  return fmt::format("`{}` failed: {}", command,
                     output.empty() ? fmt::format("exit status {}", status) : output);
}

}  // namespace edgegnn::runtime
