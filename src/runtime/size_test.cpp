#include "runtime/size.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace edgegnn::runtime {
namespace {

TEST(ParseSize, ReadsBinaryDecimalAndPlainBytes) {
  EXPECT_EQ(parse_size("512MiB", "--memory-budget"), 512LL << 20);
  EXPECT_EQ(parse_size("1GiB", "--memory-budget"), 1LL << 30);
  EXPECT_EQ(parse_size("1.5GB", "--memory-budget"), 1'500'000'000LL);
  EXPECT_EQ(parse_size("300MB", "--memory-budget"), 300'000'000LL);
  EXPECT_EQ(parse_size("2048KiB", "--memory-budget"), 2048LL << 10);
  EXPECT_EQ(parse_size("1000000", "--memory-budget"), 1'000'000LL);
  EXPECT_EQ(parse_size("100B", "--memory-budget"), 100);
  EXPECT_EQ(parse_size("2TiB", "--memory-budget"), 2LL << 40);
  EXPECT_EQ(parse_size("0.5KB", "--memory-budget"), 500);
}

TEST(ParseSize, UnitsAreCaseInsensitiveAndMayFollowASpace) {
  EXPECT_EQ(parse_size("512mib", "--memory-budget"), 512LL << 20);
  EXPECT_EQ(parse_size("1.5gb", "--memory-budget"), 1'500'000'000LL);
  EXPECT_EQ(parse_size("1 GiB", "--memory-budget"), 1LL << 30);
  EXPECT_EQ(parse_size(" 64 MIB ", "--memory-budget"), 64LL << 20);
}

TEST(ParseSize, FractionsRoundToTheNearestByte) {
  EXPECT_EQ(parse_size("1.5KiB", "--memory-budget"), 1536);
  EXPECT_EQ(parse_size("0.1GB", "--memory-budget"), 100'000'000LL);
  EXPECT_EQ(parse_size("1.0001KiB", "--memory-budget"), 1024);  // 1024.1 bytes
}

TEST(ParseSize, RejectsWhatIsNotASizeNamingFlagAndText) {
  try {
    parse_size("12XB", "--memory-budget");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "--memory-budget: '12XB' is not a size (use e.g. 512MiB, 1.5GB or bytes)");
  }
  for (const char* text :
       {"", "MiB", "-5MiB", "1e3", "0x10", "1.2.3GB", "512M", "5 G", "1,5GB", "inf", "."})
    EXPECT_THROW(parse_size(text, "--memory-budget"), Error) << "'" << text << "'";
}

TEST(ParseSize, RejectsSizesBeyondInt64) {
  EXPECT_EQ(parse_size("9223372036854775807", "--x"), INT64_MAX);
  EXPECT_THROW(parse_size("9223372036854775808", "--x"), Error);
  EXPECT_EQ(parse_size("9000000TB", "--x"), 9'000'000'000'000'000'000LL);
  EXPECT_THROW(parse_size("10000000TB", "--x"), Error);
}

TEST(FormatBytes, PicksTheLargestBinaryUnitWithOneDecimal) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(1024), "1.0 KiB");
  EXPECT_EQ(format_bytes(1536LL << 20), "1.5 GiB");
  EXPECT_EQ(format_bytes(1LL << 30), "1.0 GiB");
  EXPECT_EQ(format_bytes((1LL << 20) - 1), "1.0 MiB");  // not "1024.0 KiB"
  EXPECT_EQ(format_bytes(-(64LL << 20)), "-64.0 MiB");
}

}  // namespace
}  // namespace edgegnn::runtime
