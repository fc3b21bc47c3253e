#include "runtime/emulated_rack.h"

#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "runtime/run_tool.h"

namespace edgegnn::runtime {
namespace fs = std::filesystem;
namespace {

constexpr const char* kSshd = "/usr/sbin/sshd";
const fs::path kRackParent = "/tmp";

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string last_line(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  const size_t newline = text.rfind('\n');
  return newline == std::string::npos ? text : text.substr(newline + 1);
}

// The launcher pid in "edgegnn-rack-<pid>", or 0.
int owner_of(const std::string& name) {
  int pid = 0, length = 0;
  if (std::sscanf(name.c_str(), "edgegnn-rack-%d%n", &pid, &length) != 1 ||
      length != static_cast<int>(name.size()))
    return 0;
  return pid;
}

// Writes `message` and errno's text to stderr (the board's sshd log) and
// exits: the parent reads the log. Async-signal-safe.
[[noreturn]] void child_fail(const char* message) {
  const char* reason = std::strerror(errno);
  [[maybe_unused]] ssize_t ignored = ::write(2, message, std::strlen(message));
  ignored = ::write(2, reason, std::strlen(reason));
  ignored = ::write(2, "\n", 1);
  ::_exit(127);
}

}  // namespace

EmulatedRack::EmulatedRack(const std::vector<Board>& boards, const std::string& flag)
    : boards_(boards) {
  check_board_network_privileges(flag);
  check(::access(kSshd, X_OK) == 0,
        "{}: the emulated rack runs an sshd on each board, and {} is missing (install "
        "openssh-server: scripts/setup does)",
        flag, kSshd);
  const CgroupParent cgroup_parent = find_memory_cgroup_parent(
      flag, "drop --emulate and give --hosts to launch on real hosts");
  remove_stale_board_networks();
  remove_stale_cgroups(cgroup_parent);
  remove_stale_rack_directories();

  dir_ = kRackParent / fmt::format("edgegnn-rack-{}", ::getpid());
  fs::remove_all(dir_);
  check(::mkdir(dir_.c_str(), 0700) == 0, "{}: cannot create {} ({})", flag, dir_.string(),
        std::strerror(errno));
  try {
    // Privilege separation: sshd refuses to start without this directory,
    // which Debian makes only when its own ssh service starts.
    ::mkdir("/run/sshd", 0755);
    for (const char* key : {"host_key", "client_key"}) {
      const std::string error = run_tool({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                                          "edgegnn-rack", "-f", (dir_ / key).string()});
      check(error.empty(), "{}: cannot make the rack's ssh keys: {}", flag, error);
    }
    const std::string host_key = read_text(dir_ / "host_key.pub");
    std::ofstream(dir_ / "known_hosts") << "10.213.0.* " << host_key;
    fs::copy_file(dir_ / "client_key.pub", dir_ / "authorized_keys");
    // StrictModes would refuse keys under /tmp; the directory is 0700 instead.
    // The boards share this machine's /tmp, where PMIx's shared-memory store
    // (the default) of one board's MPI daemon can collide with another's
    // ("PMIX ERROR ... dstore_base.c"); its hash store cannot. mpirun's own
    // environment does not reach the daemons it starts over ssh: sshd sets it.
    std::ofstream(dir_ / "sshd_config") << "Port 22\n"
                                        << "HostKey " << (dir_ / "host_key").string() << "\n"
                                        << "AuthorizedKeysFile " << (dir_ / "authorized_keys").string()
                                        << "\n"
                                           "PidFile none\n"
                                           "UsePAM no\n"
                                           "StrictModes no\n"
                                           "PasswordAuthentication no\n"
                                           "KbdInteractiveAuthentication no\n"
                                           "PermitRootLogin prohibit-password\n"
                                           "PrintMotd no\n"
                                           "PrintLastLog no\n"
                                           "UseDNS no\n"
                                           "MaxStartups 64\n"
                                           "MaxSessions 64\n"
                                           "LogLevel INFO\n"
                                           "SetEnv PMIX_MCA_gds=hash\n";

    std::vector<int64_t> rates;
    for (const Board& board : boards_) rates.push_back(board.link_bits_per_second);
    network_.emplace(::getpid(), rates, flag);
    ssh_ = fmt::format(
        "ip netns exec {} ssh -F none -i {} -o IdentitiesOnly=yes -o UserKnownHostsFile={} "
        "-o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes "
        "-o ConnectTimeout=10 -o LogLevel=ERROR",
        network_->switch_namespace_name(), (dir_ / "client_key").string(),
        (dir_ / "known_hosts").string());
    for (int k = 0; k < num_boards(); ++k) {
      fs::create_directory(disk(k));
      cgroups_.emplace_back(cgroup_parent, fmt::format("edgegnn-{}-rank{}", ::getpid(), k),
                            boards_[k].memory_limit_bytes());
      start_sshd(k);
      Host host;
      host.name = network_->address(k);
      host.line = k + 1;
      hosts_.push_back(host);
    }
  } catch (...) {
    stop();
    throw;
  }
}

EmulatedRack::~EmulatedRack() { stop(); }

fs::path EmulatedRack::disk(int k) const { return dir_ / fmt::format("board{}", k); }

void EmulatedRack::start_sshd(int k) {
  const passwd* user = ::getpwuid(::geteuid());
  check(user != nullptr && user->pw_dir != nullptr && user->pw_dir[0] == '/',
        "--emulate: uid {} has no home directory to give the boards' disks", ::geteuid());
  const std::string home = user->pw_dir, disk_dir = disk(k).string();
  const std::string log = (dir_ / fmt::format("sshd{}.log", k)).string();
  const std::string config = (dir_ / "sshd_config").string();
  const std::string listen = "ListenAddress=" + network_->address(k);
  std::vector<std::string> args = {kSshd, "-D", "-f", config, "-E", log, "-o", listen};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  const int netns_fd = ::open(network_->namespace_path(k).c_str(), O_RDONLY | O_CLOEXEC);
  const int cgroup_fd = ::open(cgroups_[k].procs_path().c_str(), O_WRONLY | O_CLOEXEC);
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const pid_t parent = ::getpid();
  const pid_t pid = (log_fd < 0 || netns_fd < 0 || cgroup_fd < 0 || null_fd < 0) ? -1 : ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    ::setsid();
    if (::dup2(null_fd, 0) < 0 || ::dup2(null_fd, 1) < 0 || ::dup2(log_fd, 2) < 0)
      child_fail("cannot redirect sshd's output: ");
    if (::write(cgroup_fd, "0", 1) != 1) child_fail("cannot join the board's memory cgroup: ");
    if (::setns(netns_fd, CLONE_NEWNET) != 0) child_fail("cannot join the board's network: ");
    if (::unshare(CLONE_NEWNS) != 0) child_fail("cannot make the board's mount namespace: ");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      child_fail("cannot make the board's mounts private: ");
    if (::mount(disk_dir.c_str(), home.c_str(), nullptr, MS_BIND, nullptr) != 0)
      child_fail("cannot mount the board's disk on the home directory: ");
    ::execv(kSshd, argv.data());
    child_fail("cannot run /usr/sbin/sshd: ");
  }
  const int fork_error = errno;
  for (int fd : {log_fd, netns_fd, cgroup_fd, null_fd})
    if (fd >= 0) ::close(fd);
  check(pid > 0, "--emulate: cannot start board {}'s sshd ({})", k, std::strerror(fork_error));
  sshd_pids_.push_back(pid);

  // sshd logs "Server listening on <address> port 22." once it accepts.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    const std::string text = read_text(log);
    if (text.find("Server listening on") != std::string::npos) return;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      sshd_pids_.back() = 0;
      fail("--emulate: board {}'s sshd ended at start: {} (log {})", k, last_line(text), log);
    }
    check(std::chrono::steady_clock::now() < deadline,
          "--emulate: board {}'s sshd did not listen within 10 s (log {})", k, log);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void EmulatedRack::stop() {
  for (pid_t pid : sshd_pids_)
    if (pid > 0) ::kill(pid, SIGTERM);
  for (pid_t pid : sshd_pids_)
    while (pid > 0 && ::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  sshd_pids_.clear();
  cgroups_.clear();  // kills the sessions still running on the boards
  network_.reset();
  if (!dir_.empty()) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
}

void remove_stale_rack_directories() {
  for (const fs::path& dir : list_rack_directories()) {
    const int pid = owner_of(dir.filename().string());
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // its launcher still runs
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
}

std::vector<fs::path> list_rack_directories() {
  std::vector<fs::path> dirs;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(kRackParent, error))
    if (owner_of(entry.path().filename().string()) > 0) dirs.push_back(entry.path());
  return dirs;
}

}  // namespace edgegnn::runtime
