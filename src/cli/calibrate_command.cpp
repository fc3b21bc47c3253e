#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "graph/binary_format.h"
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
  train::CalibrationOptions options;
  options.threads = runtime::configure_threads(args.threads);
  options.seconds_per_probe = args.seconds;
  const train::Calibration c = train::calibrate(
      options, [](const std::string& probe) { fmt::print(stderr, "calibrate: {}\n", probe); });
  fmt::print("threads                 {}\n", c.threads);
  fmt::print("GEMM {}x{}x{}     {:.1f} GFLOP/s\n", options.gemm_rows, options.features,
             options.hidden, c.gemm_gflops);
  fmt::print("GEMM {}x{}x{}      {:.1f} GFLOP/s\n", options.gemm_rows, options.hidden,
             options.classes, c.output_gemm_gflops);
  fmt::print("aggregation             {:.2f} GB/s of rows read\n",
             c.aggregation_bytes_per_second / 1e9);
  fmt::print("sampling                {:.2f} M edges/s\n", c.sampled_edges_per_second / 1e6);
  if (args.out.empty()) return;
  nlohmann::json profile = train::to_json(c, options);
  utsname system{};
  char host[256] = "";
  if (::uname(&system) == 0) profile["machine"] = system.machine;
  if (::gethostname(host, sizeof host - 1) == 0) profile["host"] = host;
  const std::string text = profile.dump(2) + "\n";
  graph::write_file_atomically(out, text.data(), text.size());
  fmt::print("wrote {}\n", args.out);
}

}  // namespace edgegnn::cli
