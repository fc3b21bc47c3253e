#include "train/micro_batches.h"

#include "core/error.h"

namespace edgegnn::train {

std::vector<MicroBatch> split_micro_batches(const sample::Batch& batch, int num_micro_batches) {
  check(num_micro_batches >= 1, "--micro-batches: {} is not a positive count", num_micro_batches);
  const int num_layers = static_cast<int>(batch.blocks.size());
  const int64_t num_seeds = batch.blocks.back().num_dst();
  // table_row[l][p]: where row p of block l's dst sits in layer l's output
  // table (-1 until computed); table_ids[l]: the table's node ids in order.
  std::vector<std::vector<int32_t>> table_row(num_layers), table_ids(num_layers);
  for (int l = 0; l < num_layers; ++l) table_row[l].assign(batch.blocks[l].num_dst(), -1);
  std::vector<std::vector<uint8_t>> wanted(num_layers);
  for (int l = 0; l < num_layers; ++l) wanted[l].assign(batch.blocks[l].num_dst(), 0);

  std::vector<MicroBatch> micro(num_micro_batches);
  for (int m = 0; m < num_micro_batches; ++m) {
    // Rows each layer computes in this micro-batch, top down.
    std::vector<std::vector<int32_t>> rows(num_layers);
    for (int64_t p = num_seeds * m / num_micro_batches; p < num_seeds * (m + 1) / num_micro_batches;
         ++p)
      rows[num_layers - 1].push_back(static_cast<int32_t>(p));
    for (int l = num_layers - 1; l > 0; --l) {
      const sample::Block& block = batch.blocks[l];
      // Src position q of block l is dst row q of block l-1 (dst first).
      auto want = [&](int32_t q) {
        if (table_row[l - 1][q] >= 0 || wanted[l - 1][q]) return;
        wanted[l - 1][q] = 1;
        rows[l - 1].push_back(q);
      };
      for (int32_t p : rows[l]) {
        want(p);  // its own row
        for (int64_t e = block.rowptr[p]; e < block.rowptr[p + 1]; ++e) want(block.col[e]);
      }
      for (int32_t q : rows[l - 1]) wanted[l - 1][q] = 0;
    }
    // Bottom up: place the new rows in their tables, then cut each block.
    MicroBatch& mb = micro[m];
    mb.blocks.resize(num_layers);
    mb.dst_input_rows.resize(num_layers);
    for (int l = 0; l < num_layers; ++l) {
      const sample::Block& block = batch.blocks[l];
      sample::Block& cut = mb.blocks[l];
      cut.rowptr.push_back(0);
      for (int32_t p : rows[l]) {
        cut.dst_ids.push_back(block.dst_ids[p]);
        for (int64_t e = block.rowptr[p]; e < block.rowptr[p + 1]; ++e)
          cut.col.push_back(l == 0 ? block.col[e] : table_row[l - 1][block.col[e]]);
        cut.rowptr.push_back(static_cast<int64_t>(cut.col.size()));
        if (l > 0) mb.dst_input_rows[l].push_back(table_row[l - 1][p]);
      }
      cut.src_ids = l == 0 ? block.src_ids : table_ids[l - 1];
      for (int32_t p : rows[l]) {
        table_row[l][p] = static_cast<int32_t>(table_ids[l].size());
        table_ids[l].push_back(block.dst_ids[p]);
      }
    }
  }
  return micro;
}

}  // namespace edgegnn::train
