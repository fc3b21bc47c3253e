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
// loss scaled by the whole step's seeds, as in DataStrategy. The next
// --sampler-queue steps (default 1) are sampled and fetched on a thread of
// their own, over a second channel (Communicator::open_channel), while this
// one computes: the same steps as in series (--sampler-queue 0), since every
// draw is keyed on the seed, epoch, step and node.
//
// Evaluation is the one layer-wise evaluator over each rank's own nodes; a
// layer's table is the rank's own rows with its halo's (the remote sources of
// its in-edges) after them, fetched from their owners once per layer
// (HaloRows).
#pragma once

#include <memory>
#include <vector>

#include "comm/communicator.h"
#include "train/distributed_sampler.h"
#include "train/feature_fetcher.h"
#include "train/gradient_buckets.h"
#include "train/part_view.h"
#include "train/strategy.h"

namespace edgegnn::train {

// A part's evaluation rows: its own nodes', with the halo's fetched for each
// layer's table. A collective to build and to use.
class HaloRows : public EvalRows {
 public:
  // Borrows both. Chunks carry self-loops for kSelfLoops (GAT).
  HaloRows(const PartView& view, comm::Communicator& comm,
           nn::Normalization normalization = nn::Normalization::kNone);
  int64_t num_rows(int) const override { return view_.part.num_nodes; }
  bool computes(int) const override { return true; }
  nn::FeatureMatrix table(int layer, nn::FeatureMatrix own) override;
  // The same on every rank: blocks of no more floats than the own rows' whole
  // table, at least 8 columns wide, where a part's halo outnumbers its own
  // rows (the part whose halo does by the most decides).
  int64_t table_columns(int layer, int64_t width) const override;
  nn::LayerGraph chunk(int layer, int64_t begin, int64_t end) override;
  // What it holds: the halo's ids and the rows others ask for, nothing per
  // node of the whole graph.
  size_t memory_bytes() const;

 private:
  // A layer table's row of global id v, own or halo: own rows are
  // v - first_id_, halo rows follow them in halo_ids_ order.
  int32_t table_row(int32_t v) const;

  const PartView& view_;
  comm::Communicator& comm_;
  bool self_loops_;
  int64_t first_id_ = 0;                         // this part's first global id
  std::vector<int32_t> halo_ids_;                // ascending, so grouped by owner
  std::vector<std::vector<int32_t>> halo_;       // per owner, ascending
  std::vector<std::vector<int64_t>> send_rows_;  // per rank: own rows it needs
  std::vector<std::vector<int64_t>> part_sizes_;  // per rank: {own rows, halo rows}
};

class PartitionStrategy : public Strategy {
 public:
  // A collective. Borrows everything; all must outlive the strategy.
  PartitionStrategy(const PartView& view, TrainingState& state, const TrainOptions& options,
                    comm::Communicator& comm);

  std::string name() const override { return "partition"; }
  static std::unique_ptr<Strategy> make(const StrategyInputs& in);
  static std::vector<RankPlan> estimate(const PlanContext& c, std::string& note);

 protected:
  EpochStats run_epoch(int64_t epoch, runtime::Progress& progress) override;
  nn::FeatureMatrix eval_features() const override;
  EvalRows& eval_rows() override { return eval_rows_; }
  const graph::Graph& eval_graph() const override { return view_.part; }
  std::string role() const override { return "part " + std::to_string(rank()); }

 private:
  // This rank's training nodes in the order epoch `epoch` takes them.
  std::vector<int32_t> epoch_order(int64_t epoch) const;
  // The remote input nodes of kCacheRankingSteps sampled steps, most often
  // drawn first, at most `capacity` of them. A collective.
  std::vector<int32_t> rank_remote_inputs(int64_t capacity) const;

  const PartView& view_;
  comm::Communicator& loader_comm_;  // a channel of its own when batches are made ahead
  DistributedSampler sampler_;
  FeatureFetcher fetcher_;
  GradientBuckets buckets_;
  std::vector<int32_t> train_nodes_;   // global ids of this part's training nodes
  std::vector<int64_t> train_counts_;  // per rank
  int64_t steps_per_epoch_ = 0;
  std::vector<int32_t> cache_ranking_;  // remote nodes to cache, most wanted first
  HaloRows eval_rows_;
};

}  // namespace edgegnn::train
