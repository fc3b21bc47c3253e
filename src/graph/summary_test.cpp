#include "graph/summary.h"

#include <gtest/gtest.h>

#include "test_support/graphs.h"

namespace edgegnn::graph {
namespace {

TEST(Summary, CountsDegreesSplitsAndBytesOfThePathGraph) {
  GraphSummary s = summarize(test::path_graph());
  EXPECT_EQ(s.num_nodes, 3);
  EXPECT_EQ(s.num_edges, 4);
  EXPECT_EQ(s.num_self_loops, 0);
  EXPECT_EQ(s.in_degree.min, 1);
  EXPECT_EQ(s.in_degree.max, 2);
  EXPECT_EQ(s.in_degree.median, 1);
  EXPECT_DOUBLE_EQ(s.in_degree.mean, 4.0 / 3);
  EXPECT_EQ(s.num_labelled, 2);
  EXPECT_EQ(s.class_counts, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(s.num_train + s.num_val + s.num_test, 3);
  EXPECT_EQ(s.total_bytes, 4u * 8 + 4 * 4 + 6 * 4 + 3 * 4 + 3 * 3);
}

TEST(Summary, FormatShowsEdgesAndSplit) {
  std::string text = format_summary(summarize(test::path_graph()));
  EXPECT_NE(text.find("4 directed (0 self-loops)"), std::string::npos) << text;
  EXPECT_NE(text.find("train 1, val 1, test 1"), std::string::npos) << text;
}

}  // namespace
}  // namespace edgegnn::graph
