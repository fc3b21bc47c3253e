#include "cli/stage.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "partition/partition_book.h"
#include "runtime/run_tool.h"

namespace edgegnn::cli {
namespace fs = std::filesystem;
namespace {

int64_t bytes_under(const fs::path& path) {
  if (fs::is_regular_file(path)) return static_cast<int64_t>(fs::file_size(path));
  int64_t bytes = 0;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(path))
    if (entry.is_regular_file()) bytes += static_cast<int64_t>(entry.file_size());
  return bytes;
}

std::string mib(int64_t bytes) { return fmt::format("{:.1f} MiB", bytes / 1048576.0); }

// The number after `label` in rsync's --stats, "Total transferred file size:
// 1,234 bytes" -> 1234; -1 when absent.
int64_t stat_of(const std::string& stats, const std::string& label) {
  const size_t at = stats.find(label);
  if (at == std::string::npos) return -1;
  int64_t value = 0;
  bool digits = false;
  for (size_t i = at + label.size(); i < stats.size(); ++i) {
    const char c = stats[i];
    if (c >= '0' && c <= '9') {
      value = value * 10 + (c - '0');
      digits = true;
    } else if (c != ',' && (digits || c != ' ')) {
      break;
    }
  }
  return digits ? value : -1;
}

}  // namespace

std::vector<std::string> stage_data(const std::vector<runtime::Host>& hosts,
                                    const StageRequest& request) {
  check(!request.root.empty(),
        "--stage: the train command has no --root: synthetic datasets are made on each host, "
        "there is nothing to copy (drop --stage)");
  const fs::path root = fs::absolute(request.root).lexically_normal();
  check(fs::is_directory(root), "--stage: --root {} is not a directory on this machine",
        request.root);
  const std::string name = (root.has_filename() ? root : root.parent_path()).filename().string();
  const fs::path book = root / "partition.json";
  const bool partition = fs::exists(book);
  const int world = static_cast<int>(request.host_of_rank.size());
  if (partition) {
    std::ifstream in(book);
    const nlohmann::json manifest = nlohmann::json::parse(in, nullptr, false);
    check(manifest.is_object() && manifest.contains("num_parts"), "--stage: {} is not a partition",
          book.string());
    const int parts = manifest["num_parts"].get<int>();
    check(parts == world,
          "--stage: {} has {} parts for {} ranks: partition into as many parts as the hostfile "
          "has slots",
          root.string(), parts, world);
  }
  std::string rsh;
  for (const std::string& word : request.ssh) rsh += (rsh.empty() ? "" : " ") + word;

  std::vector<std::string> remote_roots;
  for (size_t h = 0; h < hosts.size(); ++h) {
    const runtime::Host& host = hosts[h];
    const std::string dest = request.stage_dir + "/" + name;
    std::string pwd;
    std::string error = runtime::run_tool(
        runtime::ssh_to(request.ssh, host,
                        fmt::format("mkdir -p {0} && cd {0} && pwd", runtime::shell_quote(dest))),
        &pwd);
    check(error.empty(), "--stage: {}: cannot make {} there: {}", host.name, dest, error);
    while (!pwd.empty() && (pwd.back() == '\n' || pwd.back() == '\r')) pwd.pop_back();
    check(pwd.starts_with("/"), "--stage: {}: 'cd {} && pwd' printed '{}', not a path", host.name,
          dest, pwd);
    remote_roots.push_back(pwd);

    std::vector<std::string> sources;
    std::string what;
    if (partition) {
      sources.push_back(book.string());
      for (int rank = 0; rank < world; ++rank) {
        if (request.host_of_rank[rank] != static_cast<int>(h)) continue;
        sources.push_back(partition::part_directory(root, rank).string());
        what += (what.empty() ? "part " : ", ") + std::to_string(rank);
      }
    } else {
      sources.push_back(root.string() + "/");
      what = "all of " + name;
    }
    int64_t bytes = 0;
    for (const std::string& source : sources) bytes += bytes_under(source);
    if (!request.quiet)
      fmt::print(stderr, "stage: {}: {} ({}) to {}\n", host.name, what, mib(bytes), pwd);
    std::vector<std::string> rsync = {"rsync", "-a", "--stats", "-e",
                                      host.port > 0 ? fmt::format("{} -p {}", rsh, host.port) : rsh};
    rsync.insert(rsync.end(), sources.begin(), sources.end());
    rsync.push_back(host.destination() + ":" + pwd + "/");
    const auto start = std::chrono::steady_clock::now();
    std::string stats;
    error = runtime::run_tool(rsync, &stats);
    check(error.empty(), "--stage: {}: {}", host.name, error);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const int64_t copied = std::max<int64_t>(stat_of(stats, "regular files transferred:"), 0);
    const int64_t files = std::max<int64_t>(stat_of(stats, "reg:"), copied);
    const int64_t sent = std::max<int64_t>(stat_of(stats, "Total transferred file size:"), 0);
    if (!request.quiet)
      fmt::print(stderr, "stage: {}: copied {} file(s), {}, in {:.1f} s; {} already there\n",
                 host.name, copied, mib(sent), seconds, files - copied);
  }
  return remote_roots;
}

}  // namespace edgegnn::cli
