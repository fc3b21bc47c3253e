#include "train/micro_batches.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "graph/dataset.h"
#include "nn/gnn_model.h"
#include "sample/neighbor_sampler.h"
#include "train/graph_tensors.h"
#include "train/step.h"

namespace edgegnn::train {
namespace {

struct Fixture {
  graph::Graph g = graph::load_dataset("synthetic-tiny", "");
  sample::Batch batch;
  Fixture() {
    sample::NeighborSampler sampler(g, {/*fanouts=*/{5, 3}, /*seed=*/1, 1});
    std::vector<int32_t> seeds;
    for (int32_t v = 0; v < 120; v += 3) seeds.push_back(v);
    batch = sampler.sample(seeds, /*batch_key=*/5);
  }
};

TEST(MicroBatches, EveryRowIsComputedByExactlyOneMicroBatch) {
  Fixture f;
  std::vector<MicroBatch> micro = split_micro_batches(f.batch, 4);
  ASSERT_EQ(micro.size(), 4u);
  for (size_t l = 0; l < f.batch.blocks.size(); ++l) {
    std::vector<int32_t> computed;
    for (const auto& mb : micro)
      computed.insert(computed.end(), mb.blocks[l].dst_ids.begin(), mb.blocks[l].dst_ids.end());
    std::vector<int32_t> all = f.batch.blocks[l].dst_ids;
    EXPECT_EQ(computed.size(), all.size()) << "layer " << l;
    std::sort(computed.begin(), computed.end());
    std::sort(all.begin(), all.end());
    EXPECT_EQ(computed, all) << "layer " << l;
  }
  // The top layer's rows are the seeds, sliced in order.
  std::vector<int32_t> seeds;
  for (const auto& mb : micro)
    seeds.insert(seeds.end(), mb.blocks.back().dst_ids.begin(), mb.blocks.back().dst_ids.end());
  EXPECT_EQ(seeds, f.batch.seed_ids());
}

// Runs the micro-batches as the pipeline does, layer by layer over growing
// tables, and compares with the whole batch's forward.
void expect_same_outputs(const std::string& kind) {
  Fixture f;
  nn::ModelOptions options;
  options.kind = nn::parse_model_kind(kind);
  options.in_features = f.g.num_features;
  options.num_classes = f.g.num_classes;
  options.hidden = 8;
  torch::manual_seed(3);
  nn::GnnModel model(options);
  model->eval();
  GraphTensors tensors(f.g);
  const torch::Tensor whole =
      model->forward(tensors.features, batch_layer_graphs(f.batch, model->normalization(), f.g));

  std::vector<torch::Tensor> table(2), outputs;
  for (const MicroBatch& mb : split_micro_batches(f.batch, 3)) {
    table[0] = torch::cat({table[0].defined() ? table[0] : torch::empty({0, 8}),
                           model->forward_layer(0, tensors.features,
                                                nn::block_layer_graph(mb.blocks[0], true,
                                                                      model->normalization(), f.g))});
    outputs.push_back(model->forward_layer(
        1, table[0],
        nn::block_layer_graph(mb.blocks[1], false, model->normalization(), f.g,
                              mb.dst_input_rows[1])));
  }
  const torch::Tensor micro = torch::log_softmax(torch::cat(outputs), -1);
  ASSERT_EQ(micro.sizes(), whole.sizes());
  EXPECT_TRUE(torch::allclose(micro, whole, 1e-5, 1e-6)) << kind;
}

TEST(MicroBatches, SageOutputsEqualTheWholeBatchs) { expect_same_outputs("sage"); }
TEST(MicroBatches, GcnOutputsEqualTheWholeBatchs) { expect_same_outputs("gcn"); }

}  // namespace
}  // namespace edgegnn::train
