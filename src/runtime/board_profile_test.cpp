#include "runtime/board_profile.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "test_support/errors.h"

namespace edgegnn::runtime {
namespace {

using test::error_of;

TEST(BoardProfile, PresetsAreOrderedByTheBoardsPublishedSpeed) {
  auto gemm = [](const char* name) {
    return preset_profile(parse_board(name, "--emulate"))->at(4).gemm_flops;
  };
  EXPECT_LT(gemm("zero2w"), gemm("pi3b+"));
  EXPECT_LT(gemm("pi3b+"), gemm("pi4-1g"));
  EXPECT_LT(gemm("pi4-1g"), gemm("pi5-8g"));
  // Every board of a family computes alike; RAM does not change the rates.
  EXPECT_EQ(gemm("pi4-1g"), gemm("pi4-8g"));
  const BoardProfile pi4 = *preset_profile(parse_board("pi4-2g", "--emulate"));
  EXPECT_EQ(pi4.cores, 4);
  EXPECT_EQ(pi4.link_bits_per_second, 1'000'000'000);
  // Twice the float64 HPL of a Pi 4's four cores (17.2 GFLOP/s, docs/board-profiles.md).
  EXPECT_NEAR(pi4.at(4).gemm_flops, 34e9, 1e9);
}

TEST(BoardProfile, RatesBetweenThreadCountsScaleFromTheNearestBelow) {
  BoardProfile p;
  p.name = "p";
  p.rates = {{1, 10e9, 5e9, 2e9, 1e6}, {4, 30e9, 12e9, 4e9, 3e6}};
  EXPECT_EQ(p.at(4).gemm_flops, 30e9);
  EXPECT_EQ(p.at(1).aggregation_bytes, 2e9);
  EXPECT_DOUBLE_EQ(p.at(2).gemm_flops, 20e9);
  EXPECT_DOUBLE_EQ(p.at(8).output_gemm_flops, 24e9);
  EXPECT_DOUBLE_EQ(p.at(0.5).sampled_edges, 0.5e6);
}

TEST(BoardProfile, CustomBoardsHaveNoPublishedRates) {
  EXPECT_FALSE(preset_profile(parse_board("custom:1GiB/1gbit", "--emulate")).has_value());
}

TEST(BoardProfile, ReadsWhatItWritesAndNamesTheFileWhenItCannot) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("edgegnn-BoardProfile-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const BoardProfile pi5 = *preset_profile(parse_board("pi5-4g", "--emulate"));
  const std::string good = (dir / "pi5.json").string();
  std::ofstream(good) << to_json(pi5).dump();
  const BoardProfile read = read_board_profile(good, "--profile");
  EXPECT_EQ(read.cores, 4);
  ASSERT_EQ(read.rates.size(), pi5.rates.size());
  EXPECT_DOUBLE_EQ(read.at(4).gemm_flops, pi5.at(4).gemm_flops);
  EXPECT_DOUBLE_EQ(read.at(1).sampled_edges, pi5.at(1).sampled_edges);
  EXPECT_EQ(read.link_bits_per_second, pi5.link_bits_per_second);

  const std::string missing = (dir / "none.json").string();
  EXPECT_EQ(error_of([&] { read_board_profile(missing, "--profile"); }),
            "--profile: cannot read " + missing);
  const std::string text = (dir / "text.json").string();
  std::ofstream(text) << "threads 2";
  EXPECT_EQ(error_of([&] { read_board_profile(text, "--profile"); }),
            "--profile: " + text + " is not JSON");
  const std::string other = (dir / "other.json").string();
  std::ofstream(other) << R"({"threads": 2})";
  EXPECT_EQ(error_of([&] { read_board_profile(other, "--profile"); }),
            "--profile: " + other +
                ": not a board profile (no 'rates'; write one with edgegnn calibrate --out)");
  const std::string zero = (dir / "zero.json").string();
  std::ofstream(zero) << R"({"rates": [{"threads": 1, "gemm_gflops": 0}]})";
  EXPECT_EQ(error_of([&] { read_board_profile(zero, "--profile"); }),
            "--profile: " + zero + ": 'gemm_gflops' is missing or not a positive number");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace edgegnn::runtime
