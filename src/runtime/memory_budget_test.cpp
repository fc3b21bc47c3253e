#include "runtime/memory_budget.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <future>
#include <thread>
#include <vector>

#include "core/error.h"
#include "runtime/memory_meter.h"
#include "runtime/size.h"

namespace edgegnn::runtime {
namespace {

constexpr int64_t kMiB = 1 << 20;

// `bytes` of memory the kernel really had to provide: every page is written,
// and the compiler may not drop the writes.
std::vector<char> touched(int64_t bytes) {
  std::vector<char> block(bytes);
  std::memset(block.data(), 1, block.size());
  asm volatile("" : : "r"(block.data()) : "memory");
  return block;
}

// A budget just above what this process has used so far.
int64_t budget_above_current_peak(int64_t headroom_bytes) {
  reset_peak_rss();
  return peak_rss_bytes() + headroom_bytes;
}

TEST(MemoryWatch, MessageNamesRankPeakAndBudget) {
  EXPECT_EQ(format_over_budget(2, 1288490189, 1LL << 30),
            "rank 2: peak memory 1.2 GiB crossed the budget of 1.0 GiB (--memory-budget)");
}

TEST(MemoryWatch, StaysQuietUnderBudget) {
  MemoryWatch watch({/*rank=*/0, budget_above_current_peak(512 * kMiB), /*poll_seconds=*/0.01, {}});
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_NO_THROW(watch.check());
  EXPECT_FALSE(watch.exceeded());
  EXPECT_EQ(watch.message(), "");
  EXPECT_GT(watch.peak_bytes(), 0);
}

TEST(MemoryWatch, CheckThrowsOnceThePeakCrossesTheBudget) {
  const int64_t budget = budget_above_current_peak(32 * kMiB);
  MemoryWatch watch({/*rank=*/2, budget, /*poll_seconds=*/0.05, {}});
  EXPECT_NO_THROW(watch.check());
  { std::vector<char> block = touched(96 * kMiB); }
  // check() reads the peak itself: no need to wait for a poll, and the block
  // being freed already does not hide it.
  try {
    watch.check();
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind("rank 2: peak memory ", 0), 0u) << message;
    EXPECT_NE(message.find("crossed the budget of " + format_bytes(budget) + " (--memory-budget)"),
              std::string::npos)
        << message;
  }
  EXPECT_TRUE(watch.exceeded());
  EXPECT_GT(watch.peak_bytes(), budget);
  EXPECT_THROW(watch.check(), Error);  // it stays crossed
}

TEST(MemoryWatch, WatcherThreadCallsTheHandlerWithoutAnyCheck) {
  std::promise<std::string> crossed;
  MemoryWatch watch({/*rank=*/1, budget_above_current_peak(32 * kMiB), /*poll_seconds=*/0.01,
                     [&](const std::string& message) { crossed.set_value(message); }});
  std::vector<char> block = touched(96 * kMiB);
  std::future<std::string> message = crossed.get_future();
  ASSERT_EQ(message.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_NE(message.get().find("rank 1: peak memory"), std::string::npos);
}

TEST(MemoryWatch, RefusesABudgetOfZero) {
  EXPECT_THROW(MemoryWatch({/*rank=*/0, /*budget_bytes=*/0, 0.05, {}}), Error);
}

TEST(MemoryWatchDeathTest, ExitOverBudgetPrintsTheErrorAndExitsWithCode3) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        MemoryWatch watch({/*rank=*/3, budget_above_current_peak(32 * kMiB), /*poll_seconds=*/0.01,
                           exit_over_budget});
        std::vector<char> block = touched(96 * kMiB);
        std::this_thread::sleep_for(
            std::chrono::seconds(10));  // the watcher ends the process first
      },
      testing::ExitedWithCode(kExitOverBudget),
      "edgegnn: error: rank 3: peak memory .* crossed the budget of .* \\(--memory-budget\\)");
}

}  // namespace
}  // namespace edgegnn::runtime
