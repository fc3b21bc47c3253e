#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "cli/commands.h"
#include "comm/gloo_communicator.h"
#include "core/error.h"
#include "graph/binary_format.h"
#include "runtime/board_profile.h"
#include "runtime/threads.h"
#include "train/calibration.h"

namespace edgegnn::cli {

void run_calibrate(const CalibrateArgs& args) {
  check(args.seconds > 0 && args.seconds <= 600, "--seconds: {} is not in (0, 600]", args.seconds);
  const std::filesystem::path out(args.out);
  if (!args.out.empty()) {
    const auto dir = out.has_parent_path() ? out.parent_path() : std::filesystem::path(".");
    check(std::filesystem::is_directory(dir), "--out: {}: directory {} does not exist", args.out,
          dir.string());
    check(!std::filesystem::is_directory(out), "--out: {} is a directory; give a file name",
          args.out);
  }
  check(args.peer.empty() || (args.master_port > 0 && args.master_port < 65536),
        "--master-port: {} is not a port (1 to 65535)", args.master_port);
  check(!args.listen || !args.peer.empty(),
        "--listen: give --peer HOST too, the board whose link to this one is probed");
  // A peer that cannot be reached is said before the probes, not after them.
  if (!args.peer.empty()) {
    try {
      comm::local_address_towards(args.peer, args.master_port);
    } catch (const Error& e) {
      fail("--peer: {}", e.what());
    }
  }
  // The rates at one thread and at all the threads asked for: the planner
  // gives a device on a shared machine its share of the cores.
  const int threads = runtime::configure_threads(args.threads);
  train::CalibrationOptions options;
  options.seconds_per_probe = args.seconds;
  // A quarter of the RAM at most: a 512 MiB Zero 2 W probes 128 MiB.
  options.aggregation_matrix_bytes =
      std::min(options.aggregation_matrix_bytes,
               static_cast<int64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGESIZE) / 4);
  utsname system{};
  char host[256] = "";
  ::uname(&system);
  ::gethostname(host, sizeof host - 1);
  runtime::BoardProfile profile{
      host, fmt::format("edgegnn calibrate on {} ({})", host, system.machine), threads, {}, 0};
  for (int t : threads > 1 ? std::vector<int>{1, threads} : std::vector<int>{1}) {
    options.threads = runtime::configure_threads(t);
    profile.rates.push_back(train::calibrate(options, [t](const std::string& probe) {
      fmt::print(stderr, "calibrate: {} ({} thread{})\n", probe, t, t > 1 ? "s" : "");
    }));
  }
  fmt::print("{:<28}", "threads");
  for (const auto& r : profile.rates) fmt::print(" {:>12}", r.threads);
  auto row = [&](const std::string& what, auto value) {
    fmt::print("\n{:<28}", what);
    for (const auto& r : profile.rates) fmt::print(" {:>12.2f}", value(r));
  };
  row(fmt::format("GEMM {}x{}x{} GFLOP/s", options.gemm_rows, options.features, options.hidden),
      [](const auto& r) { return r.gemm_flops / 1e9; });
  row(fmt::format("GEMM {}x{}x{} GFLOP/s", options.gemm_rows, options.hidden, options.classes),
      [](const auto& r) { return r.output_gemm_flops / 1e9; });
  row("aggregation GB/s read", [](const auto& r) { return r.aggregation_bytes / 1e9; });
  row("sampling M edges/s", [](const auto& r) { return r.sampled_edges / 1e6; });
  row("messages GB/s (gloo, loopback)", [](const auto& r) { return r.message_bytes / 1e9; });
  fmt::print("\n");
  if (!args.peer.empty()) {
    fmt::print(stderr, "calibrate: link to {} ({} the probe on port {})\n", args.peer,
               args.listen ? "hosting" : "joining", args.master_port);
    const train::LinkRates link = train::probe_link(args.peer, args.listen, args.master_port);
    profile.link_bits_per_second = static_cast<int64_t>(link.sent_bits_per_second);
    fmt::print("{:<28} {:>12.1f} sent, {:.1f} received\n", "link Mbit/s to " + args.peer,
               link.sent_bits_per_second / 1e6, link.received_bits_per_second / 1e6);
  }
  if (args.out.empty()) return;
  nlohmann::json j = runtime::to_json(profile);
  j["probes"] = train::probe_shapes(options);
  const std::string text = j.dump(2) + "\n";
  graph::write_file_atomically(out, text.data(), text.size());
  fmt::print("wrote {}\n", args.out);
}

}  // namespace edgegnn::cli
