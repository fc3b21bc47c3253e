// split_micro_batches: a sampled mini-batch cut into the micro-batches of a
// pipeline without computing any layer's row twice.
//
// Micro-batch m takes the m-th slice of the seeds. Going down from the last
// layer, at each layer it computes only the rows its seeds need that no
// earlier micro-batch computed. A layer's input in micro-batch m is then the
// rows the layer below computed in micro-batches 0..m, concatenated in that
// order (its "table"). Slicing the seeds alone would make every micro-batch
// recompute the neighbours it shares with the others: on a Reddit batch cut in
// four that was a third more work for the first layer.
#pragma once

#include <cstdint>
#include <vector>

#include "sample/block.h"

namespace edgegnn::train {

struct MicroBatch {
  // Per layer, input layer first. blocks[l].dst_ids are the rows layer l
  // computes. Layer 0's block keeps the batch's src ids (global input); for
  // layers above, src_ids are the table's node ids and col indexes the table.
  std::vector<sample::Block> blocks;
  // Per layer (empty for layer 0): the table row holding each dst node's own
  // input row.
  std::vector<std::vector<int32_t>> dst_input_rows;
};

// Every row of every block of `batch` is computed by exactly one micro-batch.
std::vector<MicroBatch> split_micro_batches(const sample::Batch& batch, int num_micro_batches);

}  // namespace edgegnn::train
