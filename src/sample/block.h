// Block: one layer's message-flow graph of a sampled mini-batch (DGL's "block").
//
// A layer reads the rows of its input for `src_ids` and writes rows for
// `dst_ids`. The dst nodes come first among the sources (src_ids[i] == dst_ids[i]
// for i < num_dst), so a layer finds each dst node's own features in the first
// num_dst rows. Edges are a CSR from each dst row to local src columns:
// the sampled in-neighbours of dst i are src rows col[rowptr[i] .. rowptr[i+1]).
//
// Example: seeds {7, 3}; 7 has sampled in-neighbours {3, 9}, 3 has {5}:
//   dst_ids = {7, 3}
//   src_ids = {7, 3, 9, 5}        dst first, then new ids in order of appearance
//   rowptr  = {0, 2, 3}
//   col     = {1, 2, 3}           3 -> local 1, 9 -> 2, 5 -> 3
// (Block.HeaderExampleIsWhatTheSamplerBuilds in neighbor_sampler_test.cpp
// samples exactly this example.)
//
// A Batch holds one block per layer, input layer first: blocks[0].src_ids are
// the nodes whose features are gathered, blocks.back().dst_ids are the seeds,
// and blocks[l].dst_ids == blocks[l + 1].src_ids.
#pragma once

#include <cstdint>
#include <vector>

namespace edgegnn::sample {

struct Block {
  std::vector<int32_t> dst_ids;  // global ids of the output rows
  std::vector<int32_t> src_ids;  // global ids of the input rows, dst_ids first
  std::vector<int64_t> rowptr;   // num_dst + 1 offsets into col
  std::vector<int32_t> col;      // local src index of each sampled edge

  int64_t num_dst() const { return static_cast<int64_t>(dst_ids.size()); }
  int64_t num_src() const { return static_cast<int64_t>(src_ids.size()); }
  int64_t num_edges() const { return static_cast<int64_t>(col.size()); }
};

struct Batch {
  std::vector<Block> blocks;  // input layer first
  int64_t index = 0;          // position of this batch in its epoch
  int64_t global_size = 0;    // seeds of the whole batch across ranks (>= this slice's)

  const std::vector<int32_t>& input_ids() const { return blocks.front().src_ids; }
  const std::vector<int32_t>& seed_ids() const { return blocks.back().dst_ids; }
};

}  // namespace edgegnn::sample
