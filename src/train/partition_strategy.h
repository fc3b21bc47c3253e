// PartitionStrategy: data parallelism without replicating the graph (DistDGL's
// design, for boards of 0.5-1 GB). Rank r holds part r of a partitioned graph
// (`edgegnn partition`): its nodes' in-edges, features, labels and masks,
// plus the partition book.
//
// Each step every rank takes a slice of its own training nodes (all ranks run
// the same number of steps, ceil(all training nodes / --batch-size), so a
// step's slices add up to about one global batch). Sampling crosses parts hop
// by hop (DistributedSampler), input features are gathered from their owners
// (FeatureFetcher, with its cache), forward and backward run locally, and the
// gradients are summed across ranks in buckets overlapped with backward, the
// loss scaled by the whole step's seeds, as in DataStrategy.
//
// Evaluation is distributed layer-wise inference: each rank computes its own
// nodes' outputs layer by layer, fetching the rows of its halo (remote sources
// of its in-edges) from their owners once per layer.
#pragma once

#include <memory>
#include <vector>

#include "comm/communicator.h"
#include "train/distributed_sampler.h"
#include "train/feature_fetcher.h"
#include "train/gradient_buckets.h"
#include "train/part_view.h"
#include "train/strategy.h"
#include "train/train_options.h"
#include "train/training_state.h"

namespace edgegnn::train {

class PartitionStrategy : public Strategy {
 public:
  // A collective. Borrows everything; all must outlive the strategy.
  PartitionStrategy(const PartView& view, TrainingState& state, const TrainOptions& options,
                    comm::Communicator& comm);

  std::string name() const override { return "partition"; }
  EpochStats train_epoch(int64_t epoch, runtime::Progress& progress) override;
  Accuracy evaluate() override;
  std::vector<DeviceReport> device_reports() const override;

 private:
  // Every rank's `count`, on every rank.
  std::vector<int64_t> count_on_every_rank(int64_t count);
  // [this part's `rows`; the halo's rows from their owners], one allocation.
  torch::Tensor with_halo(const torch::Tensor& rows);

  const PartView& view_;
  TrainingState& state_;
  const TrainOptions& options_;
  comm::Communicator& comm_;
  DistributedSampler sampler_;
  FeatureFetcher fetcher_;
  GradientBuckets buckets_;
  std::vector<int32_t> train_nodes_;   // global ids of this part's training nodes
  std::vector<int64_t> train_counts_;  // per rank
  int64_t steps_per_epoch_ = 0;
  // Evaluation: the halo (remote sources of this part's in-edges), grouped by
  // owner, and where each node's row sits in [own rows, halo rows].
  std::vector<std::vector<int32_t>> halo_;       // per owner, ascending
  std::vector<std::vector<int64_t>> send_rows_;  // per rank: own rows it needs
  std::vector<int32_t> table_row_;               // global id -> row, -1 if neither
  int64_t training_bytes_sent_ = 0;
};

}  // namespace edgegnn::train
