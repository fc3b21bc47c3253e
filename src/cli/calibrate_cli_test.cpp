// `edgegnn calibrate` (issue 19): short probes of this machine's GEMM,
// aggregation and sampling rates, printed and written as a board profile.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "runtime/launcher.h"
#include "test_support/datasets.h"
#include "test_support/process.h"

namespace edgegnn {
namespace {

using test::CommandResult;

TEST(CalibrateCli, WritesAProfileOfThisMachinesRates) {
  const auto out = test::scratch_dir("calibrate") / "profile.json";
  CommandResult run =
      test::run_edgegnn("calibrate --threads 2 --seconds 0.2 --out " + out.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("GFLOP/s"), std::string::npos) << run.output;
  std::ifstream in(out);
  ASSERT_TRUE(in.good()) << out;
  const auto profile = nlohmann::json::parse(in);
  EXPECT_EQ(profile["cores"], 2);
  EXPECT_EQ(profile["probes"]["gemm"], nlohmann::json({20000, 602, 256}));
  // The rates at one thread and at the threads asked for.
  ASSERT_EQ(profile["rates"].size(), 2u) << profile.dump();
  for (int i : {0, 1}) {
    const nlohmann::json& r = profile["rates"][i];
    EXPECT_EQ(r["threads"], i + 1);
    // In the units named, between what a Pi Zero and a large server reach: a
    // probe that timed nothing, or reported per millisecond, falls outside.
    const double gemm = r["gemm_gflops"], output_gemm = r["output_gemm_gflops"];
    EXPECT_GT(gemm, 0.3);
    EXPECT_LT(gemm, 5000);
    EXPECT_GT(output_gemm, 0.1);
    EXPECT_LT(output_gemm, 5000);
    const double aggregation = r["aggregation_bytes_per_second"];
    EXPECT_GT(aggregation, 1e8);
    EXPECT_LT(aggregation, 1e12);
    const double sampling = r["sampled_edges_per_second"];
    EXPECT_GT(sampling, 1e5);
    EXPECT_LT(sampling, 1e10);
  }
}

// Two sides of a link probe on loopback: each writes the rate it sent at, as
// its profile's link, and the rates are what loopback moves (far above a
// board's 1 Gbit/s, below what memory copies).
TEST(CalibrateCli, ProbesTheLinkToAPeerRunningItToo) {
  const auto dir = test::scratch_dir("link");
  const std::string port = std::to_string(runtime::find_free_port("127.0.0.1"));
  const std::string probe = test::edgegnn_binary() +
                            " calibrate --threads 1 --seconds 0.05 --peer 127.0.0.1 --master-port " +
                            port + " --out ";
  test::BackgroundCommand host(probe + (dir / "host.json").string() + " --listen",
                               dir / "host.log");
  CommandResult joined = test::run_edgegnn(
      "calibrate --threads 1 --seconds 0.05 --peer 127.0.0.1 --master-port " + port + " --out " +
      (dir / "joined.json").string());
  ASSERT_EQ(joined.exit_code, 0) << joined.output;
  ASSERT_EQ(host.wait(60), 0) << host.output();
  EXPECT_NE(joined.output.find("link Mbit/s to 127.0.0.1"), std::string::npos) << joined.output;
  for (const char* side : {"host.json", "joined.json"}) {
    std::ifstream in(dir / side);
    const auto profile = nlohmann::json::parse(in);
    const double link = profile["link_bits_per_second"];
    EXPECT_GT(link, 1e9) << side;
    EXPECT_LT(link, 1e12) << side;
  }
  CommandResult listen_alone = test::run_edgegnn("calibrate --listen");
  EXPECT_EQ(listen_alone.exit_code, 2);
  EXPECT_NE(listen_alone.output.find("--listen: give --peer HOST too"), std::string::npos)
      << listen_alone.output;
}

TEST(CalibrateCli, BadFlagsAreOneLineErrors) {
  CommandResult zero = test::run_edgegnn("calibrate --seconds 0");
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_NE(zero.output.find("--seconds: 0 is not in (0, 600]"), std::string::npos) << zero.output;
  CommandResult nowhere = test::run_edgegnn("calibrate --out /nonexistent-edgegnn/p.json");
  EXPECT_EQ(nowhere.exit_code, 2);
  EXPECT_NE(nowhere.output.find("--out: /nonexistent-edgegnn/p.json: directory "
                                "/nonexistent-edgegnn does not exist"),
            std::string::npos)
      << nowhere.output;
  EXPECT_EQ(nowhere.output.find("calibrate: GEMM"), std::string::npos)
      << "probes ran before the flags were checked";
  const auto dir = test::scratch_dir("out-dir");
  CommandResult into_dir = test::run_edgegnn("calibrate --out " + dir.string());
  EXPECT_EQ(into_dir.exit_code, 2);
  EXPECT_NE(into_dir.output.find("--out: " + dir.string() + " is a directory; give a file name"),
            std::string::npos)
      << into_dir.output;
  EXPECT_EQ(into_dir.output.find("calibrate: GEMM"), std::string::npos)
      << "probes ran before the flags were checked";
}

}  // namespace
}  // namespace edgegnn
