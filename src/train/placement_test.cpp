#include "train/placement.h"

#include <gtest/gtest.h>

#include "test_support/errors.h"

namespace edgegnn::train {
namespace {

TEST(Placement, DefaultGivesTheSamplerRankZeroAndEachLayerItsOwn) {
  Placement p = default_placement(/*num_layers=*/2, /*num_ranks=*/3);
  EXPECT_EQ(p.describe(), "rank 0 = sampler, rank 1 = features+layer1, rank 2 = layer2+loss");
  EXPECT_EQ(default_placement(3, 4).roles_of(3), "layer3+loss");
}

TEST(Placement, FewerDevicesShareTheLastRank) {
  EXPECT_EQ(default_placement(2, 2).describe(),
            "rank 0 = sampler, rank 1 = features+layer1+layer2+loss");
  EXPECT_EQ(default_placement(2, 1).describe(), "rank 0 = sampler+features+layer1+layer2+loss");
}

TEST(Placement, ParseMovesOnlyTheRolesItNames) {
  Placement p = parse_placement("loss:1", 2, 3);
  EXPECT_EQ(p.layers, (std::vector<int>{1, 2}));
  EXPECT_EQ(p.loss, 1);
  EXPECT_EQ(p.describe(), "rank 0 = sampler, rank 1 = features+layer1+loss, rank 2 = layer2");
  // Rank 2 lost its roles.
  EXPECT_NE(test::error_of([] { parse_placement("layer2:1,loss:1", 2, 3); })
                .find("--placement: rank 2 has no role"),
            std::string::npos);
  Placement moved = parse_placement("sampler:2,layer2:0,loss:0", 2, 3);
  EXPECT_EQ(moved.describe(), "rank 0 = layer2+loss, rank 1 = features+layer1, rank 2 = sampler");
}

TEST(Placement, ParseRefusesWhatCannotRun) {
  auto error = [](const std::string& text, int ranks) {
    return test::error_of([&] { parse_placement(text, 2, ranks); });
  };
  EXPECT_NE(error("gpu:1", 3).find("unknown role 'gpu'"), std::string::npos);
  EXPECT_NE(error("layer3:1", 3).find("'layer3' names no layer"), std::string::npos);
  EXPECT_NE(error("layer1x:1", 3).find("names no layer"), std::string::npos);
  EXPECT_NE(error("sampler:3", 3).find("rank must be in [0, 3)"), std::string::npos);
  EXPECT_NE(error("sampler:one", 3).find("rank must be in [0, 3)"), std::string::npos);
  EXPECT_NE(error("sampler", 3).find("is not ROLE:RANK"), std::string::npos);
  EXPECT_NE(error("loss:2,loss:2", 3).find("placed twice"), std::string::npos);
  EXPECT_NE(error("features:2", 3).find("must share a rank"), std::string::npos);
  EXPECT_NE(error("", 4).find("--devices: a pipeline of 2 layers runs on 1 to 3 devices"),
            std::string::npos);
}

}  // namespace
}  // namespace edgegnn::train
