#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/error.h"
#include "runtime/hostfile.h"
#include "runtime/launcher.h"

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

// Runs `argv` locally and returns its stdout; throws Error when it fails.
std::string output_of(const std::vector<std::string>& argv, const std::string& what) {
  std::string line;
  for (const std::string& arg : argv) line += runtime::shell_quote(arg) + " ";
  std::FILE* pipe = ::popen(line.c_str(), "r");
  check(pipe != nullptr, "{}: cannot run {}", what, argv.front());
  std::string out;
  char buffer[65536];
  size_t got;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, got);
  check(::pclose(pipe) == 0, "{}: '{}' failed", what, line);
  return out;
}

// The run's train command as the hosts run it: --metrics-out goes to a file
// on rank 0's host (`remote_metrics`), the launching machine's path into
// `metrics_out`; `mpi` says whether it runs over MPI.
struct RemoteTrain {
  std::vector<std::string> argv;
  std::string metrics_out;
  bool mpi = false;
};

RemoteTrain remote_train(const LaunchArgs& args, const std::string& remote_metrics) {
  check(!args.command.empty() && args.command.front() == "train",
        "launch: give the run after --, as 'edgegnn launch --hosts FILE -- train ...'");
  RemoteTrain t;
  t.argv = {args.remote_edgegnn};
  const std::vector<std::string>& c = args.command;
  for (size_t i = 0; i < c.size(); ++i) {
    for (const char* flag : kLauncherFlags)
      check(i == 0 || !is_flag(c[i], flag),
            "launch: drop {} from the train command: the hostfile sets it", flag);
    if (c[i] == "--backend=mpi" || (c[i] == "--backend" && i + 1 < c.size() && c[i + 1] == "mpi"))
      t.mpi = true;
    if (c[i] == "--metrics-out" && i + 1 < c.size()) {
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
void start_over_ssh(runtime::LaunchOptions& launch, const LaunchArgs& args,
                    const std::vector<const runtime::Host*>& host_of_rank,
                    const std::vector<std::string>& ssh, const std::vector<std::string>& train) {
  const int world = static_cast<int>(host_of_rank.size());
  launch.num_workers = world;
  launch.master_addr = host_of_rank.front()->name;
  launch.master_port = args.master_port;
  launch.hold_stdin = true;
  // Messages name each rank with its host.
  for (const runtime::Host* host : host_of_rank) launch.labels.push_back(host->name);
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
    return runtime::ssh_command(ssh, *host_of_rank[rank], rank_env, train);
  };
}

// Over MPI: mpirun starts the ranks through the same ssh, and stops them; the
// launcher runs and relays mpirun alone. Writes mpirun's hostfile to `path`.
void start_under_mpirun(runtime::LaunchOptions& launch, const LaunchArgs& args,
                        const std::vector<runtime::Host>& hosts, int world,
                        const std::vector<std::string>& train, const std::string& path) {
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
  launch.argv = {"mpirun", "-np", std::to_string(world), "--hostfile", path,
                 "--mca", "plm_rsh_agent", args.ssh};
  if (::geteuid() == 0) launch.argv.push_back("--allow-run-as-root");
  launch.argv.insert(launch.argv.end(), train.begin(), train.end());
}

}  // namespace

int run_launch(const LaunchArgs& args) {
  const std::vector<runtime::Host> hosts = runtime::read_hostfile(args.hosts);
  const std::vector<std::string> ssh = words_of(args.ssh);
  check(!ssh.empty(), "--ssh: no command given");
  // Rank 0 writes the metrics on its host; they are brought back after the run.
  const std::string scratch = fmt::format("/tmp/edgegnn-launch-{}", ::getpid());
  const RemoteTrain train = remote_train(args, scratch + "-metrics.json");
  std::vector<const runtime::Host*> host_of_rank;
  for (const runtime::Host& host : hosts)
    for (int s = 0; s < host.slots; ++s) host_of_rank.push_back(&host);
  const int world = static_cast<int>(host_of_rank.size());

  runtime::LaunchOptions launch;
  const std::string mpi_hosts = scratch + "-mpi-hosts";
  struct RemoveOnExit {
    std::string path;
    ~RemoveOnExit() { std::remove(path.c_str()); }
  } remove_mpi_hosts{train.mpi ? mpi_hosts : ""};
  if (train.mpi)
    start_under_mpirun(launch, args, hosts, world, train.argv, mpi_hosts);
  else
    start_over_ssh(launch, args, host_of_rank, ssh, train.argv);
  if (!args.quiet)
    fmt::print(stderr, "launch: {} ranks on {} hosts{}\n", world, hosts.size(),
               train.mpi ? ", under mpirun"
                         : fmt::format(", rank 0 at {}:{}", launch.master_addr, launch.master_port));
  runtime::LaunchResult result = runtime::launch_local(launch);
  for (const auto& warning : result.warnings) fmt::print(stderr, "edgegnn: warning: {}\n", warning);
  if (!result.ok()) {
    fmt::print(stderr, "edgegnn: error: {}\n", result.message);
    return result.exit_code();
  }
  if (!train.metrics_out.empty()) {
    const std::string file = runtime::shell_quote(scratch + "-metrics.json");
    const std::string metrics = output_of(
        runtime::ssh_to(ssh, hosts.front(), "cat " + file + " && rm -f " + file), "--metrics-out");
    std::ofstream(train.metrics_out) << metrics;
    check(std::ifstream(train.metrics_out).good(), "--metrics-out: cannot write {}",
          train.metrics_out);
  }
  return 0;
}

}  // namespace edgegnn::cli
