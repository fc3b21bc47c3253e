#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <fstream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/error.h"
#include "runtime/hostfile.h"
#include "runtime/launcher.h"

namespace edgegnn::cli {
namespace {

// Whitespace-separated words of --ssh.
std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text + " ") {
    if (!std::isspace(static_cast<unsigned char>(c))) {
      word += c;
    } else if (!word.empty()) {
      words.push_back(word);
      word.clear();
    }
  }
  return words;
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

}  // namespace

int run_launch(const LaunchArgs& args) {
  const std::vector<runtime::Host> hosts = runtime::read_hostfile(args.hosts);
  const std::vector<std::string> ssh = words_of(args.ssh);
  check(!ssh.empty(), "--ssh: no command given");
  check(!args.command.empty() && args.command.front() == "train",
        "launch: give the run after --, as 'edgegnn launch --hosts FILE -- train ...'");
  // Rank 0 writes the metrics on its host; they are brought back after the run.
  const std::string remote_metrics = fmt::format("/tmp/edgegnn-launch-{}-metrics.json", ::getpid());
  std::vector<std::string> remote{args.remote_edgegnn};
  std::string metrics_out;  // the launching machine's copy
  for (size_t i = 0; i < args.command.size(); ++i) {
    const std::string& arg = args.command[i];
    for (const char* flag : kLauncherFlags)
      check(i == 0 || !is_flag(arg, flag),
            "launch: drop {} from the train command: the hostfile sets it", flag);
    if (arg == "--metrics-out" && i + 1 < args.command.size()) {
      metrics_out = args.command[++i];
      remote.insert(remote.end(), {arg, remote_metrics});
    } else if (arg.starts_with("--metrics-out=")) {
      metrics_out = arg.substr(arg.find('=') + 1);
      remote.push_back("--metrics-out=" + remote_metrics);
    } else {
      remote.push_back(arg);
    }
  }
  std::vector<const runtime::Host*> host_of_rank;
  for (const runtime::Host& host : hosts)
    for (int s = 0; s < host.slots; ++s) host_of_rank.push_back(&host);
  const int world = static_cast<int>(host_of_rank.size());

  runtime::LaunchOptions launch;
  launch.num_workers = world;
  launch.master_addr = hosts.front().name;
  launch.master_port = args.master_port;
  launch.hold_stdin = true;
  for (const runtime::Host* host : host_of_rank) launch.labels.push_back(host->name);
  launch.command = [&](int rank, const std::map<std::string, std::string>& env) {
    // Each rank's host names its rank among its own slots.
    std::map<std::string, std::string> rank_env = env;
    const runtime::Host* host = host_of_rank[rank];
    int local = 0, local_size = 0;
    for (int r = 0; r < world; ++r) {
      if (host_of_rank[r] != host) continue;
      if (r < rank) ++local;
      ++local_size;
    }
    rank_env["LOCAL_RANK"] = std::to_string(local);
    rank_env["LOCAL_WORLD_SIZE"] = std::to_string(local_size);
    return runtime::ssh_command(ssh, *host, rank_env, remote);
  };
  if (!args.quiet)
    fmt::print(stderr, "launch: {} ranks on {} hosts, rank 0 at {}:{}\n", world, hosts.size(),
               launch.master_addr, launch.master_port);
  runtime::LaunchResult result = runtime::launch_local(launch);
  for (const auto& warning : result.warnings) fmt::print(stderr, "edgegnn: warning: {}\n", warning);
  // Messages name each rank with its host, the label.
  if (!result.ok()) {
    fmt::print(stderr, "edgegnn: error: {}\n", result.message);
    return result.exit_code();
  }
  if (!metrics_out.empty()) {
    std::vector<std::string> fetch = ssh;
    const runtime::Host& first = hosts.front();
    if (first.port > 0) fetch.insert(fetch.end(), {"-p", std::to_string(first.port)});
    fetch.insert(fetch.end(), {first.destination(), "cat " + runtime::shell_quote(remote_metrics) +
                                                        " && rm -f " +
                                                        runtime::shell_quote(remote_metrics)});
    const std::string metrics = output_of(fetch, "--metrics-out");
    std::ofstream(metrics_out) << metrics;
    check(std::ifstream(metrics_out).good(), "--metrics-out: cannot write {}", metrics_out);
  }
  return 0;
}

}  // namespace edgegnn::cli
