#include "train/evaluation.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "comm/communicator.h"
#include "comm/mailbox.h"
#include "graph/synthetic.h"
#include "partition/open_partition.h"
#include "partition/partition_writer.h"
#include "test_support/datasets.h"
#include "test_support/ranks.h"
#include "train/graph_tensors.h"
#include "train/partition_strategy.h"
#include "train/pipeline_strategy.h"
#include "train/step.h"
#include "train/training_state.h"

namespace edgegnn::train {
namespace {

graph::Graph tiny() {
  return graph::generate_synthetic(graph::synthetic_preset("tiny"), {/*seed=*/2});
}

// GAT: two heads of `hidden` / 2.
TrainingState model_for(const graph::Graph& g, const std::string& kind, int64_t hidden) {
  TrainOptions o;
  o.model = {nn::parse_model_kind(kind), g.num_features, hidden, g.num_classes, /*num_layers=*/2};
  if (o.model.kind == nn::ModelKind::kGat) {
    o.model.heads = 2;
    o.model.hidden = hidden / 2;
  }
  return make_training_state(o);
}

// One full-graph forward pass: log-probabilities of every node.
torch::Tensor full_forward(nn::GnnModel& model, const graph::Graph& g) {
  torch::NoGradGuard no_grad;
  model->eval();
  torch::Tensor out = model->forward(borrow_features(g), full_layer_graphs(g, 2, model->normalization()));
  model->train();
  return out;
}

void expect_close(const torch::Tensor& outputs, const torch::Tensor& log_probs,
                  const std::string& what) {
  ASSERT_TRUE(outputs.defined()) << what;
  ASSERT_EQ(outputs.sizes(), log_probs.sizes()) << what;
  EXPECT_TRUE(torch::allclose(torch::log_softmax(outputs, 1), log_probs, 1e-5, 1e-5))
      << what << ": largest difference "
      << (torch::log_softmax(outputs, 1) - log_probs).abs().max().item<double>();
}

using test::on_ranks;

// Layer-wise inference in chunks, with its shortcuts, must give what one
// full-graph forward pass gives. On tiny (16 features, 4 classes), hidden 12
// takes the message path in both layers, holding layer 2's messages and roots
// instead of layer 1's output; hidden 32 runs layer 1 plainly. Both orders of
// the first layer (project every node first, or aggregate each chunk first).
// And with the table fetched 5 columns at a time (ColumnBlockRows).

// Rows whose tables are fetched a few columns at a time, as a part's whose
// halo outnumbers its own rows are.
class ColumnBlockRows : public WholeGraphRows {
 public:
  using WholeGraphRows::WholeGraphRows;
  int64_t table_columns(int, int64_t width) const override { return std::min<int64_t>(5, width); }
};

void expect_whole_graph_matches(const std::string& kind, int64_t hidden) {
  graph::Graph g = tiny();
  TrainingState state = model_for(g, kind, hidden);
  const torch::Tensor full = full_forward(state.model, g);
  for (bool project_first : {true, false}) {
    const MemoryLevers levers{/*eval_chunk_nodes=*/37, project_first};
    const std::string what = kind + " hidden " + std::to_string(hidden) +
                             (project_first ? " project-first" : " aggregate-first");
    WholeGraphRows rows(g, state.model->normalization());
    expect_close(evaluate_layerwise(state.model, borrow_features(g), rows, levers), full, what);
    ColumnBlockRows blocks(g, state.model->normalization());
    expect_close(evaluate_layerwise(state.model, borrow_features(g), blocks, levers), full,
                 what + " in column blocks");
    if (state.model->conv(0).reads_nonzeros())
      expect_close(
          evaluate_layerwise(state.model, borrow_features(g).with_nonzeros(1.0), rows, levers),
          full, what + " from the features' nonzeros");
  }
}

TEST(LayerwiseEvaluation, SageInChunksMatchesOneFullForward) {
  expect_whole_graph_matches("sage", /*hidden=*/12);
  expect_whole_graph_matches("sage", /*hidden=*/32);
}

TEST(LayerwiseEvaluation, GcnInChunksMatchesOneFullForward) {
  expect_whole_graph_matches("gcn", /*hidden=*/12);
  expect_whole_graph_matches("gcn", /*hidden=*/32);
}

TEST(LayerwiseEvaluation, GatInChunksMatchesOneFullForward) {
  expect_whole_graph_matches("gat", /*hidden=*/12);
  expect_whole_graph_matches("gat", /*hidden=*/32);
}

// The same evaluator over a partition's halo exchange (2 parts, each rank its
// own nodes' rows; 4 parts, whose halos outnumber their own rows, so the first
// layer's table comes in column blocks) and over a pipeline's stream
// (sampler / features+layer1 / layer2+loss, the loss's rank ending with every
// node's rows) gives the rows one full-graph forward pass gives, for the same
// weights.
TEST(LayerwiseEvaluation, HaloExchangeAndPipelineStreamMatchOneFullForward) {
  graph::Graph g = tiny();
  struct Parts {
    int num_parts;
    std::filesystem::path dir;
    std::vector<int64_t> original;  // row r of a part is node original[id]
  };
  std::vector<Parts> partitions;
  for (int num_parts : {2, 4}) {
    Parts p{num_parts, test::scratch_dir("parts-" + std::to_string(num_parts)), {}};
    std::vector<int32_t> node_part(g.num_nodes);
    for (int64_t v = 0; v < g.num_nodes; ++v)
      node_part[v] = static_cast<int32_t>((v * 7 + v / 5) % num_parts);
    partition::PartitionWriteOptions write;
    write.num_parts = num_parts;
    write.method = partition::PartitionMethod::kRandom;
    partition::write_partition(g, node_part, p.dir, write);
    p.original.resize(g.num_nodes);
    const std::vector<int32_t> new_ids = partition::range_ids(node_part, num_parts);
    for (int64_t v = 0; v < g.num_nodes; ++v) p.original[new_ids[v]] = v;
    partitions.push_back(std::move(p));
  }
  for (const auto& [kind, hidden] :
       {std::pair{"sage", 12}, std::pair{"sage", 32}, std::pair{"gat", 12}}) {
    TrainingState state = model_for(g, kind, hidden);
    const torch::Tensor full = full_forward(state.model, g);
    // One model per rank, made here: seeding torch's generator is not thread-safe.
    std::vector<TrainingState> models;
    for (int r = 0; r < 4; ++r) models.push_back(model_for(g, kind, hidden));
    const std::string what = std::string(kind) + " hidden " + std::to_string(hidden);
    for (const Parts& p : partitions)
      for (bool project_first : {true, false}) {
        const MemoryLevers levers{/*eval_chunk_nodes=*/29, project_first};
        on_ranks(p.num_parts, [&](int rank, comm::Communicator& comm) {
          partition::Partition part = partition::open_partition(
              p.dir, {.part = rank, .num_ranks = p.num_parts, .expected = {}, .graph = {}});
          PartView view{part.graph, part.graph.global_ids.span(), part.book.offsets};
          HaloRows rows(view, comm, models[rank].model->normalization());
          if (p.num_parts == 4 && std::string(kind) == "sage")
            EXPECT_LT(rows.table_columns(0, g.num_features), g.num_features);
          const torch::Tensor outputs =
              evaluate_layerwise(models[rank].model, borrow_features(part.graph), rows, levers);
          std::vector<int64_t> ids;
          for (int32_t v : view.global_ids) ids.push_back(p.original[v]);
          expect_close(outputs, full.index_select(0, torch::tensor(ids, torch::kInt64)),
                       fmt::format("{} parts, part {}, {}", p.num_parts, rank, what));
        });
      }
    on_ranks(3, [&](int rank, comm::Communicator& comm) {
      const Placement placement = default_placement(2, 3);
      comm::Mailbox mailbox(comm);
      nn::GnnModel& model = models[rank].model;
      StreamRows rows(g, model->normalization(), placement, mailbox, rank);
      const nn::FeatureMatrix features =
          placement.features == rank ? borrow_features(g) : nn::FeatureMatrix();
      const torch::Tensor outputs = evaluate_layerwise(
          model, features, rows, MemoryLevers{/*eval_chunk_nodes=*/41, false});
      if (placement.loss == rank)
        expect_close(outputs, full, "pipeline, " + what);
      else
        EXPECT_FALSE(outputs.defined()) << "rank " << rank;
    });
  }
}

TEST(LayerwiseEvaluation, CountHitsCountsEachMask) {
  graph::Graph g = tiny();
  GraphTensors tensors(g);
  // One-hot outputs of the true labels: every labelled node right.
  torch::Tensor outputs =
      torch::one_hot(tensors.labels.to(torch::kInt64).clamp_min(0), g.num_classes).to(torch::kFloat32);
  const SplitCounts right = count_hits(outputs, g);
  EXPECT_EQ(right.sizes[0], graph::count_mask(g.train_mask));
  EXPECT_EQ(right.hits, right.sizes);
  const Accuracy all_right = accuracy_of(right);
  EXPECT_DOUBLE_EQ(all_right.train, 1.0);
  EXPECT_DOUBLE_EQ(all_right.test, 1.0);
  EXPECT_DOUBLE_EQ(accuracy_of(count_hits(outputs.roll(1, 1), g)).test, 0.0);
  EXPECT_EQ(count_hits(torch::Tensor(), g).sizes[1], 0);  // a rank holding no outputs
}

}  // namespace
}  // namespace edgegnn::train
