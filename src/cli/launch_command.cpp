#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/stage.h"
#include "core/error.h"
#include "runtime/emulated_rack.h"
#include "runtime/hostfile.h"
#include "runtime/launcher.h"
#include "runtime/run_tool.h"

namespace edgegnn::cli {
namespace {

// Whitespace-separated words of --ssh.
std::vector<std::string> words_of(const std::string& text) {
  std::istringstream in(text);
  return {std::istream_iterator<std::string>(in), std::istream_iterator<std::string>()};
}

// The train flags the launcher sets from the hostfile, which a user must not.
constexpr const char* kLauncherFlags[] = {"--devices", "--rank",   "--world-size", "--master-addr",
                                          "--master-port", "--emulate", "--enforce-memory"};

bool is_flag(const std::string& arg, const char* flag) {
  return arg == flag || arg.starts_with(std::string(flag) + "=");
}

volatile std::sig_atomic_t interrupt_signal = 0;
void record_interrupt(int signal) { interrupt_signal = signal; }

// Until launch_local owns them, SIGINT, SIGTERM and SIGHUP are noted rather
// than fatal, so that making the rack and staging end by unwinding: the rack
// is then removed (what rsync or ssh was doing fails, or is checked after).
class HoldInterrupts {
 public:
  HoldInterrupts() {
    struct sigaction note = {};
    note.sa_handler = record_interrupt;
    for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &note, &previous_[i]);
  }
  ~HoldInterrupts() {
    for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &previous_[i], nullptr);
  }
  void check_during(const char* what) const {
    check(interrupt_signal == 0, "launch: interrupted by signal {} ({}) while {}",
          static_cast<int>(interrupt_signal), ::strsignal(interrupt_signal), what);
  }

 private:
  static constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction previous_[3];
};

// The run's train command as the hosts run it: --metrics-out goes to a file
// on rank 0's host (`remote_metrics`), the launching machine's path into
// `metrics_out`; `mpi` says whether it runs over MPI; `root` is its --root,
// which staging replaces (with_root).
struct RemoteTrain {
  std::vector<std::string> argv;
  std::string metrics_out;
  bool mpi = false;
  std::string root;
  int root_index = -1;  // the argv word holding it
  std::string root_prefix;  // "" or "--root="

  std::vector<std::string> with_root(const std::string& path) const {
    std::vector<std::string> staged = argv;
    staged[root_index] = root_prefix + path;
    return staged;
  }
};

RemoteTrain remote_train(const LaunchArgs& args, const std::string& remote_edgegnn,
                         const std::string& remote_metrics) {
  check(!args.command.empty() && args.command.front() == "train",
        "launch: give the run after --, as 'edgegnn launch --hosts FILE -- train ...'");
  RemoteTrain t;
  t.argv = {remote_edgegnn};
  const std::vector<std::string>& c = args.command;
  for (size_t i = 0; i < c.size(); ++i) {
    for (const char* flag : kLauncherFlags)
      check(i == 0 || !is_flag(c[i], flag),
            "launch: drop {} from the train command: the {} sets it", flag,
            args.emulate.empty() ? "hostfile" : "emulated rack");
    if (c[i] == "--backend=mpi" || (c[i] == "--backend" && i + 1 < c.size() && c[i + 1] == "mpi"))
      t.mpi = true;
    if (c[i] == "--root" && i + 1 < c.size()) {
      t.argv.push_back(c[i]);
      t.root = c[++i];
      t.root_index = static_cast<int>(t.argv.size());
      t.argv.push_back(t.root);
    } else if (c[i].starts_with("--root=")) {
      t.root = c[i].substr(7);
      t.root_prefix = "--root=";
      t.root_index = static_cast<int>(t.argv.size());
      t.argv.push_back(c[i]);
    } else if (c[i] == "--metrics-out" && i + 1 < c.size()) {
      t.metrics_out = c[++i];
      t.argv.insert(t.argv.end(), {"--metrics-out", remote_metrics});
    } else if (c[i].starts_with("--metrics-out=")) {
      t.metrics_out = c[i].substr(c[i].find('=') + 1);
      t.argv.push_back("--metrics-out=" + remote_metrics);
    } else {
      t.argv.push_back(c[i]);
    }
  }
  return t;
}

// Over gloo: one ssh per rank, each worker told its rank and rendezvous and
// stopped through its stdin (runtime::ssh_command).
// `train_of_host`: each host's command (staging may put the data elsewhere on each).
void start_over_ssh(runtime::LaunchOptions& launch, int master_port,
                    const std::vector<runtime::Host>& hosts, const std::vector<int>& host_index,
                    const std::vector<std::string>& ssh,
                    const std::vector<std::vector<std::string>>& train_of_host,
                    const runtime::EmulatedRack* rack) {
  std::vector<const runtime::Host*> host_of_rank;
  for (int h : host_index) host_of_rank.push_back(&hosts[h]);
  const int world = static_cast<int>(host_of_rank.size());
  launch.num_workers = world;
  launch.master_addr = host_of_rank.front()->name;
  launch.master_port = master_port;
  launch.hold_stdin = true;
  // Messages name each rank with its host, and on the rack its board.
  for (int rank = 0; rank < world; ++rank)
    launch.labels.push_back(rack ? fmt::format("{} on {}", host_of_rank[rank]->name,
                                               rack->board(host_index[rank]).name)
                                 : host_of_rank[rank]->name);
  launch.command = [=](int rank, const std::map<std::string, std::string>& env) {
    // Each rank's host numbers its own slots.
    std::map<std::string, std::string> rank_env = env;
    int local = 0, local_size = 0;
    for (int r = 0; r < world; ++r) {
      if (host_of_rank[r] != host_of_rank[rank]) continue;
      if (r < rank) ++local;
      ++local_size;
    }
    rank_env["LOCAL_RANK"] = std::to_string(local);
    rank_env["LOCAL_WORLD_SIZE"] = std::to_string(local_size);
    return runtime::ssh_command(ssh, *host_of_rank[rank], rank_env,
                                train_of_host[host_index[rank]]);
  };
}

// Over MPI: mpirun starts the ranks through the same ssh, and stops them; the
// launcher runs and relays mpirun alone. Writes mpirun's hostfile to `path`.
// On the emulated rack mpirun runs in the switch's namespace, where the
// boards' daemons reach it.
void start_under_mpirun(runtime::LaunchOptions& launch, const LaunchArgs& args,
                        const std::vector<runtime::Host>& hosts, int world,
                        const std::string& ssh, const std::vector<std::string>& train,
                        const std::string& path,
                        const runtime::EmulatedRack* rack) {
  std::ofstream file(path);
  for (const runtime::Host& host : hosts) {
    check(host.port == 0,
          "{} line {}: with --backend mpi, mpirun reaches the hosts and takes no port: give it "
          "in your ssh config",
          args.hosts, host.line);
    file << host.destination() << " slots=" << host.slots << "\n";
  }
  check(file.good(), "launch: cannot write {}", path);
  launch.num_workers = 1;
  if (rack) {
    launch.argv = {"ip", "netns", "exec", rack->console_namespace()};
    // PMIx's shared-memory store errs when the "hosts" share /tmp, as the
    // rack's boards do; its hash store does not.
    launch.extra_env["PMIX_MCA_gds"] = "hash";
  }
  launch.argv.insert(launch.argv.end(), {"mpirun", "-np", std::to_string(world), "--hostfile",
                                         path, "--mca", "plm_rsh_agent", ssh});
  if (::geteuid() == 0) launch.argv.push_back("--allow-run-as-root");
  launch.argv.insert(launch.argv.end(), train.begin(), train.end());
}

// A port free on `host` a moment ago, from its edgegnn (`free-port`).
int free_port(const runtime::Host& host, const std::vector<std::string>& ssh,
              const std::string& remote_edgegnn) {
  std::string out;
  const std::string error =
      runtime::run_tool(runtime::ssh_to(ssh, host, runtime::shell_quote(remote_edgegnn) +
                                                       " free-port"),
                        &out);
  check(error.empty(), "--master-port: cannot ask {} for a free port ({}); give --master-port",
        host.name, error);
  int port = 0;
  check(std::sscanf(out.c_str(), "%d", &port) == 1 && port > 0 && port < 65536,
        "--master-port: {} answered '{}', not a port; give --master-port", host.name, out);
  return port;
}

// On the rack, a rank killed by its board's OOM killer is reported as
// `train --emulate` reports it (ssh only says the command was killed).
std::string oom_message(const runtime::EmulatedRack& rack, const std::vector<int>& host_index,
                        const std::vector<runtime::Host>& hosts) {
  for (size_t rank = 0; rank < host_index.size(); ++rank) {
    const int k = host_index[rank];
    if (rack.oom_kill_count(k) == 0) continue;
    runtime::WorkerResult worker;
    worker.rank = static_cast<int>(rank);
    worker.label = hosts[k].name;
    worker.board = rack.board(k).name;
    worker.board_ram_bytes = rack.board(k).ram_bytes;
    worker.memory_limit_bytes = rack.board(k).memory_limit_bytes();
    worker.signal = SIGKILL;
    worker.oom_killed = true;
    return runtime::describe_worker_exit(worker);
  }
  return "";
}

}  // namespace

int run_launch(const LaunchArgs& args) {
  HoldInterrupts interrupts;
  check(!args.hosts.empty() || !args.emulate.empty(),
        "launch: give --hosts FILE, or --emulate BOARD --devices N for an emulated rack");
  check(!words_of(args.ssh).empty(), "--ssh: no command given");
  check(args.devices >= 1, "--devices: {} boards; give 1 or more", args.devices);
  // The rack's boards see this machine's files: they run this binary.
  const std::string remote_edgegnn = !args.emulate.empty() && args.remote_edgegnn == "edgegnn"
                                         ? std::filesystem::read_symlink("/proc/self/exe").string()
                                         : args.remote_edgegnn;
  // Rank 0 writes the metrics on its host; they are brought back after the run.
  const std::string scratch = fmt::format("/tmp/edgegnn-launch-{}", ::getpid());
  const RemoteTrain train = remote_train(args, remote_edgegnn, scratch + "-metrics.json");

  std::optional<runtime::EmulatedRack> rack;
  std::vector<runtime::Host> hosts;
  std::string ssh_text = args.ssh;
  if (!args.emulate.empty()) {
    if (!args.quiet)
      fmt::print(stderr, "launch: making an emulated rack of {} board(s), an sshd on each\n",
                 args.devices);
    rack.emplace(runtime::parse_boards(args.emulate, args.devices, "--emulate"), "--emulate");
    hosts = rack->hosts();
    ssh_text = rack->ssh_command();
  } else {
    hosts = runtime::read_hostfile(args.hosts);
  }
  interrupts.check_during("making the rack");
  const std::vector<std::string> ssh = words_of(ssh_text);
  std::vector<int> host_index;  // by rank
  for (size_t h = 0; h < hosts.size(); ++h)
    for (int s = 0; s < hosts[h].slots; ++s) host_index.push_back(static_cast<int>(h));
  const int world = static_cast<int>(host_index.size());

  std::vector<std::vector<std::string>> train_of_host(hosts.size(), train.argv);
  if (args.stage) {
    const std::vector<std::string> roots =
        stage_data(hosts, {train.root, args.stage_dir, ssh, host_index, args.quiet});
    for (size_t h = 0; h < hosts.size(); ++h) train_of_host[h] = train.with_root(roots[h]);
    interrupts.check_during("staging");
    for (size_t h = 1; h < hosts.size() && train.mpi; ++h)
      check(roots[h] == roots[0],
            "--stage: with --backend mpi every rank runs one command line, but the data is at {} "
            "on {} and at {} on {}: give --stage-dir as an absolute path",
            roots[0], hosts[0].name, roots[h], hosts[h].name);
  }

  runtime::LaunchOptions launch;
  const std::string mpi_hosts = scratch + "-mpi-hosts";
  struct RemoveOnExit {
    std::string path;
    ~RemoveOnExit() { std::remove(path.c_str()); }
  } remove_mpi_hosts{train.mpi ? mpi_hosts : ""};
  const runtime::EmulatedRack* on_rack = rack ? &*rack : nullptr;
  if (train.mpi)
    start_under_mpirun(launch, args, hosts, world, ssh_text, train_of_host.front(), mpi_hosts,
                       on_rack);
  else
    start_over_ssh(launch, args.master_port ? args.master_port : free_port(hosts.front(), ssh,
                                                                          remote_edgegnn),
                   hosts, host_index, ssh, train_of_host, on_rack);
  if (!args.quiet)
    fmt::print(stderr, "launch: {} ranks on {} hosts{}\n", world, hosts.size(),
               train.mpi ? ", under mpirun"
                         : fmt::format(", rank 0 at {}:{}", launch.master_addr, launch.master_port));
  runtime::LaunchResult result = runtime::launch_local(launch);
  for (const auto& warning : result.warnings) fmt::print(stderr, "edgegnn: warning: {}\n", warning);
  if (!result.ok()) {
    const std::string oom = rack ? oom_message(*rack, host_index, hosts) : "";
    fmt::print(stderr, "edgegnn: error: {}\n", oom.empty() ? result.message : oom);
    return oom.empty() ? result.exit_code() : 128 + SIGKILL;
  }
  if (!train.metrics_out.empty()) {
    const std::string file = runtime::shell_quote(scratch + "-metrics.json");
    std::string metrics;
    const std::string error =
        runtime::run_tool(runtime::ssh_to(ssh, hosts.front(), "cat " + file + " && rm -f " + file),
                          &metrics);
    check(error.empty(), "--metrics-out: cannot fetch it from {}: {}", hosts.front().name, error);
    std::ofstream(train.metrics_out) << metrics;
    check(std::ifstream(train.metrics_out).good(), "--metrics-out: cannot write {}",
          train.metrics_out);
  }
  return 0;
}

}  // namespace edgegnn::cli
