#include "sample/neighbor_sampler.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <gtest/gtest.h>

namespace edgegnn::sample {
namespace {

using graph::Buffer;
using graph::Graph;

// Graph from in-neighbour lists: in[v] are the sources of v's in-edges.
Graph graph_from_in_lists(const std::vector<std::vector<int32_t>>& in) {
  Graph g;
  g.num_nodes = static_cast<int64_t>(in.size());
  std::vector<int64_t> rowptr{0};
  std::vector<int32_t> col;
  for (const auto& sources : in) {
    col.insert(col.end(), sources.begin(), sources.end());
    rowptr.push_back(static_cast<int64_t>(col.size()));
  }
  g.rowptr = Buffer(std::move(rowptr));
  g.col = Buffer(std::move(col));
  return g;
}

// A star: node 0 has in-edges from all of 1..n-1, and each of those from 0.
Graph star(int32_t n) {
  std::vector<std::vector<int32_t>> in(n);
  for (int32_t v = 1; v < n; ++v) {
    in[0].push_back(v);
    in[v].push_back(0);
  }
  return graph_from_in_lists(in);
}

TEST(Block, HeaderExampleIsWhatTheSamplerBuilds) {
  // 10 nodes; 7 <- {3, 9}, 3 <- {5}; fanout -1 takes all of them.
  std::vector<std::vector<int32_t>> in(10);
  in[7] = {3, 9};
  in[3] = {5};
  Graph g = graph_from_in_lists(in);
  NeighborSampler sampler(g, {/*fanouts=*/{-1}, /*seed=*/0, /*num_threads=*/1});
  std::vector<int32_t> seeds{7, 3};
  Batch batch = sampler.sample(seeds, /*batch_key=*/0);
  ASSERT_EQ(batch.blocks.size(), 1u);
  const Block& b = batch.blocks[0];
  EXPECT_EQ(b.dst_ids, (std::vector<int32_t>{7, 3}));
  EXPECT_EQ(b.src_ids, (std::vector<int32_t>{7, 3, 9, 5}));
  EXPECT_EQ(b.rowptr, (std::vector<int64_t>{0, 2, 3}));
  EXPECT_EQ(b.col, (std::vector<int32_t>{1, 2, 3}));
}

TEST(NeighborSampler, LayersChainAndInputLayerComesFirst) {
  Graph g = star(50);
  NeighborSampler sampler(g, {/*fanouts=*/{5, 3}, /*seed=*/1, /*num_threads=*/1});
  std::vector<int32_t> seeds{0};
  Batch batch = sampler.sample(seeds, 0);
  ASSERT_EQ(batch.blocks.size(), 2u);
  EXPECT_EQ(batch.seed_ids(), seeds);
  EXPECT_EQ(batch.blocks[1].num_edges(), 5);         // seed 0 samples 5 of its 49
  EXPECT_EQ(batch.blocks[0].dst_ids, batch.blocks[1].src_ids);
  // Second hop: 0 samples 3 of its 49 leaves, each of the 5 leaves has only 0.
  EXPECT_EQ(batch.blocks[0].num_edges(), 3 + 5);
}

TEST(NeighborSampler, SamplesDistinctRealNeighboursUpToTheFanout) {
  Graph g = star(40);
  NeighborSampler sampler(g, {/*fanouts=*/{7}, /*seed=*/3, /*num_threads=*/2});
  std::vector<int32_t> seeds{0, 5, 9};
  Batch batch = sampler.sample(seeds, 11);
  const Block& b = batch.blocks[0];
  EXPECT_EQ(b.rowptr, (std::vector<int64_t>{0, 7, 8, 9}));
  std::set<int32_t> picked;
  for (int64_t e = b.rowptr[0]; e < b.rowptr[1]; ++e) {
    int32_t u = b.src_ids[b.col[e]];
    EXPECT_NE(u, 0);
    picked.insert(u);
  }
  EXPECT_EQ(picked.size(), 7u);
  EXPECT_EQ(b.src_ids[b.col[7]], 0);  // 5's only neighbour is 0, already a dst
  EXPECT_EQ(b.col[7], 0);
}

TEST(NeighborSampler, SameResultWhateverTheThreadCount) {
  Graph g = star(300);
  std::vector<int32_t> seeds;
  for (int32_t v = 0; v < 300; v += 3) seeds.push_back(v);
  auto run = [&](int threads) {
    NeighborSampler sampler(g, {/*fanouts=*/{10, 4}, /*seed=*/42, threads});
    return sampler.sample(seeds, 5);
  };
  Batch one = run(1), four = run(4);
  for (size_t l = 0; l < one.blocks.size(); ++l) {
    EXPECT_EQ(one.blocks[l].src_ids, four.blocks[l].src_ids);
    EXPECT_EQ(one.blocks[l].col, four.blocks[l].col);
    EXPECT_EQ(one.blocks[l].rowptr, four.blocks[l].rowptr);
  }
  NeighborSampler other(g, {/*fanouts=*/{10, 4}, /*seed=*/43, 1});
  EXPECT_NE(other.sample(seeds, 5).blocks[1].src_ids, one.blocks[1].src_ids);
}

TEST(NeighborSampler, EachNeighbourIsEquallyLikely) {
  // 0 has 20 in-neighbours; fanout 5 picks each with probability 1/4.
  Graph g = star(21);
  NeighborSampler sampler(g, {/*fanouts=*/{5}, /*seed=*/9, /*num_threads=*/1});
  std::vector<int32_t> seeds{0};
  std::map<int32_t, int> hits;
  const int trials = 8000;
  for (int t = 0; t < trials; ++t) {
    Block b = sampler.sample(seeds, t).blocks[0];
    for (int32_t c : b.col) ++hits[b.src_ids[c]];
  }
  ASSERT_EQ(hits.size(), 20u);
  for (auto [node, count] : hits) EXPECT_NEAR(count, trials / 4.0, 5 * std::sqrt(trials * 0.1875)) << node;
}

TEST(NeighborSampler, APartsRowsSampleAsTheWholeGraphDoes) {
  // The part holds the rows of nodes 2, 3 and 4 of a 40-node star (a
  // partition's contiguous range; sources stay global ids).
  Graph whole = star(40);
  std::vector<std::vector<int32_t>> rows;
  for (int32_t v : {2, 3, 4})
    rows.emplace_back(whole.in_neighbors(v).begin(), whole.in_neighbors(v).end());
  Graph part = graph_from_in_lists(rows);
  part.num_source_nodes = 40;
  part.global_ids = Buffer(std::vector<int32_t>{2, 3, 4});
  NeighborSampler from_whole(whole, {/*fanouts=*/{5, 2}, /*seed=*/9, 1});
  NeighborSampler from_part(part, {/*fanouts=*/{5, 2}, /*seed=*/9, 1});
  EXPECT_EQ(from_part.num_nodes(), 40);
  const std::vector<int32_t> nodes{3, 4, 2};
  for (int hop : {0, 1}) {
    SampledNeighbors a = from_whole.sample_neighbors(nodes, hop, /*batch_key=*/77);
    SampledNeighbors b = from_part.sample_neighbors(nodes, hop, /*batch_key=*/77);
    EXPECT_EQ(a.rowptr, b.rowptr) << hop;
    EXPECT_EQ(a.ids, b.ids) << hop;
  }
  // make_block over what sample() drew rebuilds sample()'s block, with
  // either id map.
  Batch batch = from_whole.sample(nodes, 77);
  for (IdMap map : {IdMap::kIdMapArray, IdMap::kIdMapHash}) {
    Block rebuilt = make_block(nodes, from_part.sample_neighbors(nodes, 0, 77), 40, map);
    EXPECT_EQ(rebuilt.src_ids, batch.blocks.back().src_ids);
    EXPECT_EQ(rebuilt.col, batch.blocks.back().col);
  }
  std::vector<int32_t> outside{5};
  EXPECT_THROW(from_part.sample_neighbors(outside, 0, 77), Error);
}

TEST(NeighborSampler, RefusesAPartWhoseRowsAreNoContiguousRange) {
  Graph part = graph_from_in_lists({{0}, {0}});
  part.num_source_nodes = 10;
  part.global_ids = Buffer(std::vector<int32_t>{2, 5});
  EXPECT_THROW(NeighborSampler(part, {/*fanouts=*/{2}, 0, 1}), Error);
}

TEST(NeighborSampler, RejectsBadFanoutsAndSeeds) {
  Graph g = star(5);
  EXPECT_THROW(NeighborSampler(g, {/*fanouts=*/{}, 0, 1}), Error);
  EXPECT_THROW(NeighborSampler(g, {/*fanouts=*/{0}, 0, 1}), Error);
  NeighborSampler sampler(g, {/*fanouts=*/{2}, 0, 1});
  std::vector<int32_t> out_of_range{9}, repeated{1, 1};
  EXPECT_THROW(sampler.sample(out_of_range, 0), Error);
  EXPECT_THROW(sampler.sample(repeated, 0), Error);
}

}  // namespace
}  // namespace edgegnn::sample
