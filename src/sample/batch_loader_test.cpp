#include "sample/batch_loader.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "test_support/graphs.h"

namespace edgegnn::sample {
namespace {

std::vector<std::vector<int32_t>> epoch_seeds(const NeighborSampler& sampler,
                                              const std::vector<int32_t>& seeds, int64_t epoch) {
  BatchLoader loader(sampler, seeds, {/*batch_size=*/2, epoch, /*shuffle_seed=*/7});
  std::vector<std::vector<int32_t>> out;
  while (auto batch = loader.next()) {
    EXPECT_EQ(batch->index, static_cast<int64_t>(out.size()));
    out.push_back(batch->seed_ids());
  }
  EXPECT_EQ(static_cast<int64_t>(out.size()), loader.num_batches());
  return out;
}

TEST(BatchLoader, CoversEverySeedOnceInBatchesOfTheGivenSize) {
  graph::Graph g = test::path_graph();
  NeighborSampler sampler(g, {/*fanouts=*/{-1}, 0, 1});
  std::vector<int32_t> seeds{0, 1, 2};
  auto batches = epoch_seeds(sampler, seeds, 0);
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].size(), 2u);
  EXPECT_EQ(batches[1].size(), 1u);
  std::vector<int32_t> all = batches[0];
  all.push_back(batches[1][0]);
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, seeds);
}

TEST(BatchLoader, ShuffleDependsOnTheEpochAndIsRepeatable) {
  graph::Graph g = test::path_graph();
  NeighborSampler sampler(g, {/*fanouts=*/{-1}, 0, 1});
  std::vector<int32_t> seeds{0, 1, 2};
  EXPECT_EQ(epoch_seeds(sampler, seeds, 3), epoch_seeds(sampler, seeds, 3));
  bool differs = false;
  for (int64_t epoch = 1; epoch < 8; ++epoch)
    differs |= epoch_seeds(sampler, seeds, epoch) != epoch_seeds(sampler, seeds, 0);
  EXPECT_TRUE(differs);
}

TEST(BatchLoader, RankSlicesTileEachBatchAndSampleAsTheWholeBatchDoes) {
  graph::Graph g = test::path_graph();
  NeighborSampler sampler(g, {/*fanouts=*/{1}, /*seed=*/3, 1});
  std::vector<int32_t> seeds{0, 1, 2};
  BatchLoader whole(sampler, seeds, {/*batch_size=*/3, /*epoch=*/1, /*shuffle_seed=*/5});
  Batch all = *whole.next();
  std::vector<int32_t> joined;
  std::vector<int32_t> joined_neighbours;
  for (int rank = 0; rank < 2; ++rank) {
    LoaderOptions options{/*batch_size=*/3, /*epoch=*/1, /*shuffle_seed=*/5};
    options.rank = rank;
    options.num_ranks = 2;
    BatchLoader slice(sampler, seeds, options);
    Batch part = *slice.next();
    EXPECT_EQ(part.global_size, 3);
    EXPECT_EQ(part.seed_ids().size(), rank == 0 ? 1u : 2u);
    for (size_t i = 0; i < part.seed_ids().size(); ++i) {
      joined.push_back(part.seed_ids()[i]);
      const Block& b = part.blocks[0];
      joined_neighbours.push_back(b.src_ids[b.col[b.rowptr[i]]]);
    }
    EXPECT_FALSE(slice.next().has_value());
  }
  EXPECT_EQ(joined, all.seed_ids());
  const Block& b = all.blocks[0];
  for (size_t i = 0; i < joined.size(); ++i)
    EXPECT_EQ(joined_neighbours[i], b.src_ids[b.col[b.rowptr[i]]]) << i;
}

TEST(BatchLoader, SamplingErrorSurfacesInNext) {
  graph::Graph g = test::path_graph();
  NeighborSampler sampler(g, {/*fanouts=*/{-1}, 0, 1});
  std::vector<int32_t> seeds{0, 9};  // 9 is not a node
  BatchLoader loader(sampler, seeds, {/*batch_size=*/4});
  EXPECT_THROW(loader.next(), Error);
}

TEST(BatchLoader, StopsCleanlyWhenDroppedEarly) {
  graph::Graph g = test::path_graph();
  NeighborSampler sampler(g, {/*fanouts=*/{-1}, 0, 1});
  std::vector<int32_t> seeds{0, 1, 2};
  BatchLoader loader(sampler, seeds, {/*batch_size=*/1});
  EXPECT_TRUE(loader.next().has_value());
}

}  // namespace
}  // namespace edgegnn::sample
