#include "runtime/board.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "test_support/errors.h"

namespace edgegnn::runtime {
namespace {

using test::error_of;

constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int64_t kGiB = int64_t{1} << 30;

TEST(Board, PresetsHaveTheirRamAndLinkRate) {
  const Board pi3 = parse_board("pi3b+", "--emulate");
  EXPECT_EQ(pi3.name, "pi3b+");
  EXPECT_EQ(pi3.ram_bytes, 1 * kGiB);
  EXPECT_EQ(pi3.link_bits_per_second, 300'000'000);
  EXPECT_EQ(parse_board("pi4-1g", "--emulate").ram_bytes, 1 * kGiB);
  EXPECT_EQ(parse_board("pi4-2g", "--emulate").ram_bytes, 2 * kGiB);
  EXPECT_EQ(parse_board("pi4-4g", "--emulate").ram_bytes, 4 * kGiB);
  EXPECT_EQ(parse_board("pi4-8g", "--emulate").ram_bytes, 8 * kGiB);
  EXPECT_EQ(parse_board("pi5-4g", "--emulate").ram_bytes, 4 * kGiB);
  EXPECT_EQ(parse_board("PI5-8G", "--emulate").ram_bytes, 8 * kGiB);
  for (const char* name : {"pi4-1g", "pi4-8g", "pi5-4g"})
    EXPECT_EQ(parse_board(name, "--emulate").link_bits_per_second, 1'000'000'000) << name;
  const Board zero = parse_board("zero2w", "--emulate");
  EXPECT_EQ(zero.ram_bytes, 512 * kMiB);
  EXPECT_EQ(zero.link_bits_per_second, 40'000'000);
}

TEST(Board, TheOsReserveIs128MiBUpTo1GiBAnd256MiBAbove) {
  EXPECT_EQ(parse_board("zero2w", "--emulate").memory_limit_bytes(), 384 * kMiB);
  EXPECT_EQ(parse_board("pi4-1g", "--emulate").memory_limit_bytes(), 896 * kMiB);
  EXPECT_EQ(parse_board("pi4-2g", "--emulate").memory_limit_bytes(), 2 * kGiB - 256 * kMiB);
  EXPECT_EQ(parse_board("pi5-8g", "--emulate").os_reserve_bytes(), 256 * kMiB);
}

TEST(Board, CustomBoardsTakeASizeAndATcRate) {
  const Board board = parse_board("custom:768MiB/100mbit", "--emulate");
  EXPECT_EQ(board.name, "custom:768MiB/100mbit");
  EXPECT_EQ(board.ram_bytes, 768 * kMiB);
  EXPECT_EQ(board.link_bits_per_second, 100'000'000);
  EXPECT_EQ(board.memory_limit_bytes(), 640 * kMiB);
  EXPECT_EQ(parse_board("custom:1.5GB/2.5Gbit", "--emulate").link_bits_per_second, 2'500'000'000);
  EXPECT_EQ(parse_board("custom:4GiB/512kbit", "--emulate").link_bits_per_second, 512'000);
}

TEST(Board, BadBoardsNameTheFlagAndWhatIsWrong) {
  EXPECT_EQ(error_of([] { parse_board("pi9", "--emulate"); }),
            "--emulate: 'pi9' is not a board (pi3b+, pi4-1g, pi4-2g, pi4-4g, pi4-8g, pi5-4g, "
            "pi5-8g, zero2w, or custom:<RAM>/<RATE> such as custom:768MiB/100mbit)");
  EXPECT_EQ(error_of([] { parse_board("custom:1GiB", "--emulate"); }),
            "--emulate: 'custom:1GiB' needs its RAM and link rate, e.g. custom:768MiB/100mbit");
  EXPECT_EQ(error_of([] { parse_board("custom:1G/1gbit", "--emulate"); }),
            "--emulate: '1G' is not a size (use e.g. 512MiB, 1.5GB or bytes)");
  // "mbps" would be megabytes to tc and megabits to most people: refused.
  EXPECT_EQ(error_of([] { parse_board("custom:1GiB/100mbps", "--emulate"); }),
            "--emulate: '100mbps' is not a link rate (use e.g. 100mbit or 1gbit)");
  EXPECT_EQ(error_of([] { parse_board("custom:1GiB/1kbit", "--emulate"); }),
            "--emulate: link rate '1kbit' is outside 8kbit to 100gbit");
  EXPECT_EQ(error_of([] { parse_board("custom:100MiB/1gbit", "--emulate"); }),
            "--emulate: 'custom:100MiB/1gbit' has 100 MiB of RAM, no more than the 128 MiB OS "
            "reserve of such a board");
}

TEST(Board, OneBoardServesEveryDeviceOrOneIsGivenPerDevice) {
  const std::vector<Board> same = parse_boards("pi4-1g", 3, "--emulate");
  ASSERT_EQ(same.size(), 3u);
  EXPECT_EQ(same[2].name, "pi4-1g");
  const std::vector<Board> mixed =
      parse_boards("pi4-8g,zero2w,custom:768MiB/100mbit", 3, "--emulate");
  EXPECT_EQ(mixed[0].name, "pi4-8g");
  EXPECT_EQ(mixed[1].name, "zero2w");
  EXPECT_EQ(mixed[2].link_bits_per_second, 100'000'000);
  EXPECT_EQ(error_of([] { parse_boards("pi4-1g,pi4-2g", 3, "--emulate"); }),
            "--emulate: 2 boards for 3 devices (give one board for all, or one per device)");
}

TEST(Board, FormatsSizesAndRatesAsWritten) {
  EXPECT_EQ(format_board_bytes(1 * kGiB), "1 GiB");
  EXPECT_EQ(format_board_bytes(896 * kMiB), "896 MiB");
  EXPECT_EQ(format_board_bytes(1'500'000'000), "1.4 GiB");
  EXPECT_EQ(format_link_rate(1'000'000'000), "1gbit");
  EXPECT_EQ(format_link_rate(300'000'000), "300mbit");
  EXPECT_EQ(format_link_rate(2'500'000'000), "2500mbit");
  EXPECT_EQ(format_link_rate(512'000), "512kbit");
}

}  // namespace
}  // namespace edgegnn::runtime
