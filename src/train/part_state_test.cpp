// Partition-parallel per-rank state: the distributed sampler draws what the
// whole graph, numbered as the partition numbers it, draws; and what a rank
// allocates to sample and to evaluate does not grow with the nodes other
// parts own.
#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <new>
#include <numeric>

#include "graph/synthetic.h"
#include "partition/open_partition.h"
#include "partition/partition_writer.h"
#include "test_support/datasets.h"
#include "test_support/graphs.h"
#include "test_support/ranks.h"
#include "train/distributed_sampler.h"
#include "train/partition_strategy.h"

namespace {

// Heap bytes this thread holds (allocated here, less what it freed) and their
// peak: per thread, so one rank's share of a multi-rank test is measured
// without the others'.
thread_local int64_t t_live_bytes = 0;
thread_local int64_t t_peak_bytes = 0;

}  // namespace

// Replaced for the whole test binary; they only count.
void* operator new(size_t size) {
  void* p = std::malloc(size > 0 ? size : 1);
  if (p == nullptr) throw std::bad_alloc();
  t_live_bytes += static_cast<int64_t>(malloc_usable_size(p));
  t_peak_bytes = std::max(t_peak_bytes, t_live_bytes);
  return p;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  t_live_bytes -= static_cast<int64_t>(malloc_usable_size(p));
  std::free(p);
}
void operator delete(void* p, size_t) noexcept { operator delete(p); }

namespace edgegnn::train {
namespace {

using test::on_ranks;

void expect_same_batch(const sample::Batch& got, const sample::Batch& want,
                       const std::string& what) {
  ASSERT_EQ(got.blocks.size(), want.blocks.size()) << what;
  for (size_t l = 0; l < got.blocks.size(); ++l) {
    EXPECT_EQ(got.blocks[l].dst_ids, want.blocks[l].dst_ids) << what << " layer " << l;
    EXPECT_EQ(got.blocks[l].src_ids, want.blocks[l].src_ids) << what << " layer " << l;
    EXPECT_EQ(got.blocks[l].rowptr, want.blocks[l].rowptr) << what << " layer " << l;
    EXPECT_EQ(got.blocks[l].col, want.blocks[l].col) << what << " layer " << l;
  }
}

TEST(DistributedSampler, DrawsWhatTheWholeGraphNumberedAsPartitionedDraws) {
  graph::Graph g = graph::generate_synthetic(graph::synthetic_preset("tiny"), {/*seed=*/2});
  const std::vector<int32_t> node_part = partition::partition_nodes(
      g, {.num_parts = 3, .method = partition::PartitionMethod::kRandom, .seed = 1});
  const auto dir = test::scratch_dir("sampler-parts");
  partition::PartitionWriteOptions write;
  write.num_parts = 3;
  write.method = partition::PartitionMethod::kRandom;
  partition::write_partition(g, node_part, dir, write);
  const std::vector<int32_t> new_ids = partition::range_ids(node_part, 3);
  std::vector<int32_t> identity(new_ids.size());
  std::iota(identity.begin(), identity.end(), 0);
  ASSERT_NE(new_ids, identity) << "a renumbering that changes nothing tests nothing";
  const graph::Graph whole = test::relabel_graph(g, new_ids);
  // Fanouts below most degrees, so the draws decide the blocks.
  const sample::SamplerOptions options{/*fanouts=*/{5, 3}, /*seed=*/7, /*num_threads=*/1};
  const sample::NeighborSampler reference(whole, options);
  on_ranks(3, [&](int rank, comm::Communicator& comm) {
    partition::Partition part =
        partition::open_partition(dir, {.part = rank, .num_ranks = 3, .expected = {}, .graph = {}});
    PartView view{part.graph, part.graph.global_ids.span(), part.book.offsets};
    DistributedSampler sampler(view, options, comm);
    std::vector<int32_t> seeds;
    for (int64_t r = rank; r < part.graph.num_nodes; r += 4) seeds.push_back(view.global_ids[r]);
    for (uint64_t key : {1, 99})
      expect_same_batch(sampler.sample(seeds, key), reference.sample(seeds, key),
                        "rank " + std::to_string(rank) + " key " + std::to_string(key));
  });
}

// Part 0 owns ids [0, kOwn): node i has in-edges from (i + 1) % kOwn and from
// halo node kOwn + i % kHalo. Part 1 owns the rest of `num_nodes`; its first
// kHalo nodes have an in-edge from part 0, the others none. Only the id space
// grows with num_nodes; part 0's graph does not change.
constexpr int32_t kOwn = 20000, kHalo = 5000;

graph::Graph hand_part(int rank, int64_t num_nodes) {
  const int64_t first = rank == 0 ? 0 : kOwn;
  const int64_t n = rank == 0 ? kOwn : num_nodes - kOwn;
  std::vector<int64_t> rowptr{0};
  std::vector<int32_t> col;
  for (int64_t r = 0; r < n; ++r) {
    if (rank == 0) {
      const int32_t a = static_cast<int32_t>((r + 1) % kOwn), b = kOwn + r % kHalo;
      col.push_back(std::min(a, b));
      col.push_back(std::max(a, b));
    } else if (r < kHalo) {
      col.push_back(static_cast<int32_t>(r));
    }
    rowptr.push_back(static_cast<int64_t>(col.size()));
  }
  std::vector<int32_t> global_ids(n);
  std::iota(global_ids.begin(), global_ids.end(), static_cast<int32_t>(first));
  graph::Graph p;
  p.name = "hand";
  p.num_nodes = n;
  p.num_source_nodes = num_nodes;
  p.rowptr = graph::Buffer(std::move(rowptr));
  p.col = graph::Buffer(std::move(col));
  p.global_ids = graph::Buffer(std::move(global_ids));
  p.has_features = false;
  return p;
}

// Rank 0's peak heap bytes while it builds its evaluation rows and sampler,
// takes a layer's chunk of all its rows and samples a batch, in a graph of
// `num_nodes`.
int64_t rank_zero_peak_bytes(int64_t num_nodes) {
  const std::vector<int64_t> offsets{0, kOwn, num_nodes};
  int64_t peak = 0;
  on_ranks(2, [&](int rank, comm::Communicator& comm) {
    const graph::Graph part = hand_part(rank, num_nodes);
    const PartView view{part, part.global_ids.span(), offsets};
    const int64_t before = t_live_bytes;
    t_peak_bytes = t_live_bytes;
    {
      HaloRows rows(view, comm);
      rows.chunk(/*layer=*/0, 0, view.part.num_nodes);
      DistributedSampler sampler(view, {/*fanouts=*/{2, 2}, /*seed=*/1, /*num_threads=*/1}, comm);
      std::vector<int32_t> seeds;
      if (rank == 0)
        for (int32_t v = 0; v < kOwn; v += 16) seeds.push_back(v);
      sampler.sample(seeds, /*batch_key=*/3);
    }
    if (rank == 0) peak = t_peak_bytes - before;
  });
  return peak;
}

TEST(PartState, RankStateDoesNotGrowWithTheNodesOtherPartsOwn) {
  constexpr int64_t kSmall = int64_t{1} << 20, kLarge = 4 * kSmall;
  constexpr int64_t kTolerance = int64_t{1} << 20;
  // A per-node table of 4 bytes (version 1's halo row table, or a block's
  // global -> local array per hop) would add this much, far above the
  // tolerance; the book's two arrays would add 8 bytes per node more.
  static_assert((kLarge - kSmall) * 4 > 8 * kTolerance);
  const int64_t small = rank_zero_peak_bytes(kSmall);
  const int64_t large = rank_zero_peak_bytes(kLarge);
  EXPECT_GT(small, 0);
  EXPECT_LT(std::abs(large - small), kTolerance)
      << "peak heap of rank 0: " << small << " bytes in " << kSmall << " nodes, " << large << " in "
      << kLarge;
}

}  // namespace
}  // namespace edgegnn::train
