#include "graph/dataset.h"

#include <gtest/gtest.h>

#include <limits>

#include "graph/binary_format.h"
#include "test_support/datasets.h"
#include "test_support/graphs.h"

namespace edgegnn::graph {
namespace {

// The path graph in the binary format, with 3 NaN among its 6 feature values.
std::filesystem::path path_with_three_nans() {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Graph g = test::path_graph();
  g.features = Buffer(std::vector<float>{nan, 2, 3, nan, 5, nan});
  const auto dir = test::scratch_dir("graph");
  write_binary_graph(g, dir);
  return dir;
}

TEST(LoadDataset, WarnsWithTheCountOfNonFiniteFeatureValues) {
  const std::string root = path_with_three_nans().string();
  std::vector<std::string> warnings;
  Graph g = load_dataset("edgegnn", root, {}, &warnings);
  EXPECT_EQ(warnings, std::vector<std::string>{"path: 3 non-finite feature values (NaN or inf)"});
  EXPECT_EQ(g.num_nodes, 3);
}

TEST(LoadDataset, WarnsOfNothingInCleanOrFeaturelessData) {
  std::vector<std::string> warnings;
  load_dataset("synthetic-tiny", "", {}, &warnings);
  EXPECT_EQ(warnings, std::vector<std::string>{});
  // Features left out are not read, so their NaN go unseen.
  LoadOptions structure_only;
  structure_only.parts.features = false;
  load_dataset("edgegnn", path_with_three_nans().string(), structure_only, &warnings);
  EXPECT_EQ(warnings, std::vector<std::string>{});
}

}  // namespace
}  // namespace edgegnn::graph
