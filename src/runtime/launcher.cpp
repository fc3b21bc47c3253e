#include "runtime/launcher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>

#include "core/error.h"
#include "runtime/board_network.h"
#include "runtime/cgroup.h"
#include "runtime/memory_budget.h"
#include "runtime/size.h"

extern char** environ;

namespace edgegnn::runtime {
namespace {

using Clock = std::chrono::steady_clock;

// ---- Signals -------------------------------------------------------------
// The handler only records the signal and writes a byte to a self-pipe, which
// wakes the poll loop: everything else happens outside the handler.
std::atomic<bool> g_launch_active{false};
int g_wake_fd = -1;  // write end of the self-pipe
volatile sig_atomic_t g_interrupt_signal = 0;
volatile sig_atomic_t g_num_interrupts = 0;

void on_signal(int signal) {
  const int saved_errno = errno;
  if (signal != SIGCHLD) {
    g_interrupt_signal = signal;
    g_num_interrupts = g_num_interrupts + 1;
  }
  [[maybe_unused]] ssize_t written = ::write(g_wake_fd, "x", 1);
  errno = saved_errno;
}

constexpr int kCaughtSignals[] = {SIGCHLD, SIGINT, SIGTERM, SIGHUP};

// Installs the handlers for the duration of a launch; restores the old ones.
class SignalScope {
 public:
  SignalScope() {
    check(::pipe2(pipe_, O_CLOEXEC | O_NONBLOCK) == 0, "launcher: pipe failed ({})",
          std::strerror(errno));
    g_wake_fd = pipe_[1];
    g_interrupt_signal = 0;
    g_num_interrupts = 0;
    struct sigaction action = {};
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < std::size(kCaughtSignals); ++i)
      ::sigaction(kCaughtSignals[i], &action, &old_[i]);
    // A closed stdout (`| head`) must not kill the launcher before it stops the workers.
    struct sigaction ignore = {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &old_pipe_);
  }
  ~SignalScope() {
    for (size_t i = 0; i < std::size(kCaughtSignals); ++i)
      ::sigaction(kCaughtSignals[i], &old_[i], nullptr);
    ::sigaction(SIGPIPE, &old_pipe_, nullptr);
    g_wake_fd = -1;
    ::close(pipe_[0]);
    ::close(pipe_[1]);
  }
  int wake_fd() const { return pipe_[0]; }
  void drain() const {
    char buffer[64];
    while (::read(pipe_[0], buffer, sizeof buffer) > 0) {
    }
  }

 private:
  int pipe_[2];
  struct sigaction old_[std::size(kCaughtSignals)], old_pipe_;
};

std::string signal_name(int signal) {
  static const struct {
    int number;
    const char* name;
  } kNames[] = {{SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"},
                {SIGILL, "SIGILL"},   {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},
                {SIGFPE, "SIGFPE"},   {SIGKILL, "SIGKILL"}, {SIGSEGV, "SIGSEGV"},
                {SIGPIPE, "SIGPIPE"}, {SIGTERM, "SIGTERM"}, {SIGXCPU, "SIGXCPU"}};
  for (const auto& entry : kNames)
    if (entry.number == signal) return entry.name;
  return fmt::format("signal {}", signal);
}

// ---- Starting a worker -----------------------------------------------------
// What a child reports through its close-on-exec pipe when it cannot exec.
struct ChildFailure {
  enum Stage : int32_t { kJoinCgroup, kJoinNetwork, kRedirect, kExec } stage;
  int32_t error;
};

[[noreturn]] void child_fail(int report_fd, ChildFailure::Stage stage) {
  const ChildFailure failure{stage, errno};
  [[maybe_unused]] ssize_t written = ::write(report_fd, &failure, sizeof failure);
  ::_exit(127);
}

// execvp's PATH search, done before fork so the child only calls execve.
std::string resolve_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const size_t end = std::min(dirs.find(':'), dirs.size());
    const std::string candidate = fmt::format("{}/{}", end == 0 ? "." : dirs.substr(0, end), name);
    struct stat info;
    if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    if (end == dirs.size()) break;
    dirs.remove_prefix(end + 1);
  }
  fail("cannot start '{}': not found in PATH", name);
}

// The worker's environment: the launcher's, with `overrides` replacing any
// variable of the same name.
std::vector<std::string> worker_environment(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry; ++entry) {
    const std::string_view text(*entry);
    if (!overrides.count(std::string(text.substr(0, text.find('='))))) env.emplace_back(text);
  }
  for (const auto& [name, value] : overrides) env.push_back(name + "=" + value);
  return env;
}

struct Worker {
  WorkerResult result;
  int out_fd = -1, err_fd = -1;    // read ends, -1 once drained
  int in_fd = -1;                  // hold_stdin: the write end of its stdin, -1 once closed
  std::string out_line, err_line;  // the unfinished line of each stream
  bool reaped = false;
  std::optional<MemoryCgroup> cgroup;
};

// One launch: the workers and the loop that relays output and reaps them.
class Launch {
 public:
  Launch(const LaunchOptions& options, std::string master_addr, int master_port,
         const BoardNetwork* network)
      : options_(options), master_addr_(std::move(master_addr)), network_(network) {
    result_.master_port = master_port;
    workers_.resize(options.num_workers);
  }
  ~Launch() {
    kill_all_now();
    for (Worker& worker : workers_) {
      close_streams(worker);
      close_stdin(worker);
    }
  }

  void start(int rank, const std::optional<CgroupParent>& cgroup_parent);
  LaunchResult run(const SignalScope& signals);
  // For a launch that failed to start: SIGKILL and reap whatever runs.
  void kill_all_now();

 private:
  void begin_stop();
  void signal_running(int signal);
  void reap(Worker& worker, int status);
  void read_stream(Worker& worker, bool is_err);
  void emit(const Worker& worker, bool is_err, std::string_view line);
  void close_streams(Worker& worker);
  void close_stdin(Worker& worker);

  const LaunchOptions& options_;
  const std::string master_addr_;
  const BoardNetwork* network_;  // the boards' network with --emulate, else null
  std::vector<Worker> workers_;
  LaunchResult result_;
  bool stopping_ = false, killed_ = false;
  int interrupts_at_stop_ = 0;  // interrupts counted when the stop began
  Clock::time_point kill_deadline_;
};

void Launch::start(int rank, const std::optional<CgroupParent>& cgroup_parent) {
  Worker& worker = workers_[rank];
  worker.result.rank = rank;
  if (rank < static_cast<int>(options_.labels.size())) worker.result.label = options_.labels[rank];
  if (network_) {
    worker.result.board = options_.boards[rank].name;
    worker.result.board_ram_bytes = options_.boards[rank].ram_bytes;
  }
  const int n = options_.num_workers;
  std::map<std::string, std::string> overrides = options_.extra_env;
  overrides["RANK"] = overrides["LOCAL_RANK"] = std::to_string(rank);
  overrides["WORLD_SIZE"] = overrides["LOCAL_WORLD_SIZE"] = std::to_string(n);
  overrides["MASTER_ADDR"] = master_addr_;
  overrides["MASTER_PORT"] = std::to_string(result_.master_port);
  overrides.insert_or_assign(kWorkerEnv,
                             std::string(1, '1'));  // not = "1": GCC 12 -Wrestrict false positive

  // Everything the child needs is built before fork: after it, the child may
  // only make async-signal-safe calls (the parent may have other threads).
  const std::vector<std::string> command =
      options_.command ? options_.command(rank, overrides) : options_.argv;
  check(!command.empty(), "launcher: no command for rank {}", rank);
  const std::string program = resolve_program(command[0]);
  std::vector<char*> argv;
  for (const std::string& arg : command) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const std::vector<std::string> env = worker_environment(overrides);
  std::vector<char*> envp;
  for (const std::string& entry : env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  int cgroup_fd = -1, netns_fd = -1;
  if (cgroup_parent) {
    worker.result.memory_limit_bytes =
        network_ ? options_.boards[rank].memory_limit_bytes() : *options_.memory_limit_bytes;
    worker.cgroup.emplace(*cgroup_parent, fmt::format("edgegnn-{}-rank{}", ::getpid(), rank),
                          worker.result.memory_limit_bytes);
    cgroup_fd = ::open(worker.cgroup->procs_path().c_str(), O_WRONLY | O_CLOEXEC);
    check(cgroup_fd >= 0, "{}: cannot open ({})", worker.cgroup->procs_path().string(),
          std::strerror(errno));
  }
  if (network_) {
    netns_fd = ::open(network_->namespace_path(rank).c_str(), O_RDONLY | O_CLOEXEC);
    if (netns_fd < 0) {
      const int error = errno;
      if (cgroup_fd >= 0) ::close(cgroup_fd);
      fail("rank {}: cannot open {} ({})", rank, network_->namespace_path(rank).string(),
           std::strerror(error));
    }
  }
  int out[2] = {-1, -1}, err[2] = {-1, -1}, report[2] = {-1, -1}, in[2] = {-1, -1};
  if (options_.hold_stdin) {
    if (::pipe2(in, O_CLOEXEC) != 0) in[0] = in[1] = -1;
  } else {
    in[0] = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  const int stdin_fd = in[0];
  if (stdin_fd < 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 ||
      ::pipe2(report, O_CLOEXEC) != 0) {
    const int error = errno;
    for (int fd : {stdin_fd, in[1], out[0], out[1], err[0], err[1], report[0], report[1],
                   cgroup_fd, netns_fd})
      if (fd >= 0) ::close(fd);
    fail("rank {}: cannot create pipes ({})", rank, std::strerror(error));
  }

  // Signals stay blocked across fork, so none reaches the child while it still
  // has the launcher's handlers.
  sigset_t all, old_mask;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old_mask);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the launcher died before prctl
    ::setpgid(0, 0);
    if (cgroup_fd >= 0 && ::write(cgroup_fd, "0", 1) != 1)
      child_fail(report[1], ChildFailure::kJoinCgroup);
    if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) != 0)
      child_fail(report[1], ChildFailure::kJoinNetwork);
    struct sigaction standard = {};
    standard.sa_handler = SIG_DFL;
    for (int signal : {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT})
      ::sigaction(signal, &standard, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
    if (::dup2(stdin_fd, 0) < 0 || ::dup2(out[1], 1) < 0 || ::dup2(err[1], 2) < 0)
      child_fail(report[1], ChildFailure::kRedirect);
    ::execve(program.c_str(), argv.data(), envp.data());
    child_fail(report[1], ChildFailure::kExec);
  }
  const int fork_error = errno;
  if (pid > 0) ::setpgid(pid, pid);  // also here, so killpg works before the child ran
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  for (int fd : {stdin_fd, out[1], err[1], report[1], cgroup_fd, netns_fd})
    if (fd >= 0) ::close(fd);
  worker.out_fd = out[0];
  worker.err_fd = err[0];
  worker.in_fd = in[1];
  if (pid < 0) {
    ::close(report[0]);
    fail("rank {}: fork failed ({})", rank, std::strerror(fork_error));
  }
  worker.result.pid = pid;

  // EOF on the report pipe means execve succeeded (the pipe closed on exec).
  ChildFailure failure;
  ssize_t got;
  while ((got = ::read(report[0], &failure, sizeof failure)) < 0 && errno == EINTR) {
  }
  ::close(report[0]);
  if (got == static_cast<ssize_t>(sizeof failure)) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    worker.reaped = true;
    const char* error = std::strerror(failure.error);
    if (failure.stage == ChildFailure::kJoinCgroup)
      fail("rank {}: cannot join {} ({})", rank, worker.cgroup->procs_path().string(), error);
    if (failure.stage == ChildFailure::kJoinNetwork)
      fail("rank {}: cannot enter network namespace {} ({})", rank, network_->namespace_name(rank),
           error);
    if (failure.stage == ChildFailure::kRedirect)
      fail("rank {}: cannot redirect output ({})", rank, error);
    fail("rank {}: cannot start '{}' ({})", rank, program, error);
  }
  for (int fd : {worker.out_fd, worker.err_fd})
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

void Launch::signal_running(int signal) {
  for (const Worker& worker : workers_)
    if (!worker.reaped && worker.result.pid > 0) {
      ::killpg(worker.result.pid, signal);
      ::kill(worker.result.pid, signal);  // in case it left its group (setsid)
    }
}

void Launch::begin_stop() {
  if (stopping_) return;
  stopping_ = true;
  interrupts_at_stop_ = g_num_interrupts;
  for (Worker& worker : workers_) {
    if (!worker.reaped) worker.result.stopped_by_launcher = true;
    close_stdin(worker);
  }
  signal_running(SIGTERM);
  kill_deadline_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(options_.kill_grace_seconds));
}

void Launch::kill_all_now() {
  signal_running(SIGKILL);
  for (Worker& worker : workers_) {
    if (worker.reaped || worker.result.pid <= 0) continue;
    int status;
    while (::waitpid(worker.result.pid, &status, 0) < 0 && errno == EINTR) {
    }
    worker.reaped = true;
  }
}

void Launch::close_stdin(Worker& worker) {
  if (worker.in_fd >= 0) ::close(worker.in_fd);
  worker.in_fd = -1;
}

void Launch::reap(Worker& worker, int status) {
  worker.reaped = true;
  close_stdin(worker);
  // Whatever the worker left running in its process group goes with it.
  ::killpg(worker.result.pid, SIGKILL);
  WorkerResult& result = worker.result;
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  if (worker.cgroup) {
    result.oom_killed = result.signal == SIGKILL && worker.cgroup->oom_kill_count() > 0;
    std::string why;
    if (!worker.cgroup->remove(&why)) result_.warnings.push_back(why);
  }
  if (!result.ok() && !stopping_) {
    result_.failed_rank = result.rank;
    begin_stop();
  }
}

void Launch::emit(const Worker& worker, bool is_err, std::string_view line) {
  std::FILE* stream = is_err ? options_.err : options_.out;
  if (is_err || worker.result.rank != 0) std::fprintf(stream, "[rank %d] ", worker.result.rank);
  std::fwrite(line.data(), 1, line.size(), stream);
  std::fputc('\n', stream);
}

void Launch::read_stream(Worker& worker, bool is_err) {
  int& fd = is_err ? worker.err_fd : worker.out_fd;
  std::string& pending = is_err ? worker.err_line : worker.out_line;
  char buffer[65536];
  const ssize_t got = ::read(fd, buffer, sizeof buffer);
  if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (got <= 0) {  // EOF: the last line may lack its newline
    if (!pending.empty()) emit(worker, is_err, pending);
    pending.clear();
    ::close(fd);
    fd = -1;
    return;
  }
  pending.append(buffer, got);
  size_t start = 0;
  for (size_t newline; (newline = pending.find('\n', start)) != std::string::npos;
       start = newline + 1)
    emit(worker, is_err, std::string_view(pending).substr(start, newline - start));
  pending.erase(0, start);
  // A line that never ends (a progress bar redrawn with '\r') is cut, not hoarded.
  if (pending.size() >= sizeof buffer) {
    emit(worker, is_err, pending);
    pending.clear();
  }
}

void Launch::close_streams(Worker& worker) {
  for (int* fd : {&worker.out_fd, &worker.err_fd})
    if (*fd >= 0) {
      ::close(*fd);
      *fd = -1;
    }
}

LaunchResult Launch::run(const SignalScope& signals) {
  // After the last worker ends, its pipes may still be held by processes that
  // escaped its process group; their output gets this long to drain.
  constexpr auto kDrainAfterExit = std::chrono::seconds(1);
  std::optional<Clock::time_point> drain_deadline;
  while (true) {
    // Reap: SIGCHLD wakes the poll below, and every pass checks every worker.
    bool all_reaped = true;
    for (Worker& worker : workers_) {
      int status;
      if (!worker.reaped && ::waitpid(worker.result.pid, &status, WNOHANG) == worker.result.pid)
        reap(worker, status);
      all_reaped = all_reaped && worker.reaped;
    }
    // An interrupt starts the stop unless one is under way (a failure came
    // first and stays the reported cause) or nothing is left to stop.
    if (g_num_interrupts > 0 && !stopping_ && !all_reaped) {
      result_.interrupt_signal = g_interrupt_signal;
      begin_stop();
    }
    // An interrupt during the stop (a second Ctrl-C) means "now".
    if (stopping_ && !killed_ &&
        (Clock::now() >= kill_deadline_ || g_num_interrupts > interrupts_at_stop_)) {
      signal_running(SIGKILL);
      killed_ = true;
    }

    std::vector<pollfd> fds = {{signals.wake_fd(), POLLIN, 0}};
    std::vector<std::pair<Worker*, bool>> streams;
    for (Worker& worker : workers_)
      for (bool is_err : {false, true})
        if ((is_err ? worker.err_fd : worker.out_fd) >= 0) {
          fds.push_back({is_err ? worker.err_fd : worker.out_fd, POLLIN, 0});
          streams.emplace_back(&worker, is_err);
        }
    if (all_reaped) {
      if (streams.empty()) break;
      if (!drain_deadline) drain_deadline = Clock::now() + kDrainAfterExit;
      if (Clock::now() >= *drain_deadline) break;
    }
    const int timeout_ms = stopping_ || all_reaped ? 20 : 200;
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR)
      fail("launcher: poll failed ({})", std::strerror(errno));
    if (fds[0].revents) signals.drain();
    for (size_t i = 0; i < streams.size(); ++i)
      if (fds[i + 1].revents) read_stream(*streams[i].first, streams[i].second);
    std::fflush(options_.out);
    std::fflush(options_.err);
  }

  for (Worker& worker : workers_) {
    close_streams(worker);
    result_.workers.push_back(worker.result);
  }
  const int num_stopped =
      static_cast<int>(std::count_if(workers_.begin(), workers_.end(),
                                     [](const Worker& w) { return w.result.stopped_by_launcher; }));
  if (result_.interrupt_signal)
    result_.message = fmt::format("interrupted by {}; stopped {} running worker{}",
                                  signal_name(result_.interrupt_signal), num_stopped,
                                  num_stopped == 1 ? "" : "s");
  else if (result_.failed_rank >= 0)
    result_.message = describe_worker_exit(result_.workers[result_.failed_rank]);
  return result_;
}

}  // namespace

int LaunchResult::exit_code() const {
  if (ok()) return 0;
  if (interrupt_signal) return 128 + interrupt_signal;
  if (failed_rank >= 0) {
    const WorkerResult& worker = workers[failed_rank];
    return worker.signal ? 128 + worker.signal : worker.exit_code;
  }
  return 1;
}

std::string describe_worker_exit(const WorkerResult& worker) {
  std::string what = worker.label;
  if (!worker.board.empty()) what += (what.empty() ? "" : " on ") + worker.board;
  const std::string who = what.empty() ? fmt::format("rank {}", worker.rank)
                                       : fmt::format("rank {} ({})", worker.rank, what);
  if (worker.oom_killed && !worker.board.empty())
    return fmt::format(
        "{} was killed by the out-of-memory killer at its {} board limit ({} after the {} OS "
        "reserve)",
        who, format_board_bytes(worker.board_ram_bytes),
        format_board_bytes(worker.memory_limit_bytes),
        format_board_bytes(worker.board_ram_bytes - worker.memory_limit_bytes));
  if (worker.oom_killed)
    return fmt::format(
        "{} was killed by the out-of-memory killer at its {} limit", who,
        worker.memory_limit_bytes > 0 ? format_bytes(worker.memory_limit_bytes) : "cgroup");
  if (worker.signal)
    return fmt::format("{} was killed by signal {} ({})", who, worker.signal,
                       signal_name(worker.signal));
  if (worker.exit_code == kExitOverBudget)
    return fmt::format("{} exited with code {} (over its memory budget)", who, worker.exit_code);
  return fmt::format("{} exited with code {}", who, worker.exit_code);
}

int find_free_port(const std::string& addr) {
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  check(::inet_pton(AF_INET, addr.c_str(), &address.sin_addr) == 1, "'{}' is not an IPv4 address",
        addr);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  check(fd >= 0, "cannot create a socket ({})", std::strerror(errno));
  socklen_t length = sizeof address;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  const int error = errno;
  ::close(fd);
  check(ok, "cannot find a free port on {} ({})", addr, std::strerror(error));
  return ntohs(address.sin_port);
}

LaunchResult launch_local(const LaunchOptions& options) {
  check(options.num_workers >= 1, "launcher: need at least 1 worker, got {}", options.num_workers);
  check(!options.argv.empty() || options.command, "launcher: no worker command given");
  check(options.kill_grace_seconds >= 0, "launcher: kill grace must be >= 0 s, got {}",
        options.kill_grace_seconds);
  check(!options.memory_limit_bytes || *options.memory_limit_bytes > 0,
        "--enforce-memory cgroup: needs a memory budget > 0");
  bool idle = false;
  check(g_launch_active.compare_exchange_strong(idle, true),
        "launcher: another launch_local is already running in this process");
  struct Release {
    ~Release() { g_launch_active = false; }
  } release;

  const bool emulate = !options.boards.empty();
  check(!emulate || static_cast<int>(options.boards.size()) == options.num_workers,
        "--emulate: {} boards for {} workers", options.boards.size(), options.num_workers);
  check(!emulate || !options.memory_limit_bytes,
        "--enforce-memory: not with --emulate, whose boards set each worker's memory limit");

  std::optional<CgroupParent> cgroup_parent;
  if (emulate) {
    // Privileges first: without root, that is the one thing to say.
    check_board_network_privileges("--emulate");
    cgroup_parent = find_memory_cgroup_parent(
        "--emulate", "drop --emulate to run the workers on loopback without board limits");
    remove_stale_board_networks();
  } else if (options.memory_limit_bytes) {
    cgroup_parent = find_memory_cgroup_parent("--enforce-memory cgroup",
                                              "drop --enforce-memory to rely on the RSS watch");
  }
  if (cgroup_parent) remove_stale_cgroups(*cgroup_parent);
  SignalScope signals;  // before the first fork: a Ctrl-C from now on stops workers
  // Declared before the Launch, so that it outlives the workers it carries.
  std::optional<BoardNetwork> network;
  std::string master_addr = options.master_addr;
  int port = options.master_port;
  if (emulate) {
    std::vector<int64_t> rates;
    for (const Board& board : options.boards) rates.push_back(board.link_bits_per_second);
    network.emplace(::getpid(), rates, "--emulate");
    master_addr = network->address(0);
    port = 29500;  // rank 0's namespace is new: every port is free
  } else if (port <= 0) {
    port = find_free_port(master_addr);
  }
  Launch launch(options, master_addr, port, network ? &*network : nullptr);
  try {
    for (int rank = 0; rank < options.num_workers; ++rank) launch.start(rank, cgroup_parent);
    LaunchResult result = launch.run(signals);
    std::string why;
    if (network && !network->remove(&why)) result.warnings.push_back(why);
    return result;
  } catch (...) {
    launch.kill_all_now();
    throw;
  }
}

}  // namespace edgegnn::runtime
