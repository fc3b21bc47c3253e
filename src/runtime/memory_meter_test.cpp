#include "runtime/memory_meter.h"

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

namespace edgegnn::runtime {
namespace {

TEST(MemoryMeter, PeakSeesATouchedAllocationAfterItIsFreed) {
  ASSERT_TRUE(reset_peak_rss());
  const int64_t before = peak_rss_bytes();
  {
    std::vector<char> block(256 << 20);
    std::memset(block.data(), 1, block.size());
    EXPECT_GE(rss_bytes(), before + (250 << 20));
  }
  EXPECT_GE(peak_rss_bytes(), before + (250 << 20));
  EXPECT_LT(rss_bytes(), before + (64 << 20));
}

}  // namespace
}  // namespace edgegnn::runtime
