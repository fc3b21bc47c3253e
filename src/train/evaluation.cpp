#include "train/evaluation.h"

#include "core/error.h"

namespace edgegnn::train {
namespace {

// See the header: when a layer transforms its rows before aggregating them.
bool projects_first(nn::GraphConv& conv, int layer, const MemoryLevers& levers) {
  return conv.transforms_every_source() ||
         (conv.out_features() < conv.in_features() && (layer > 0 || levers.eval_project_first));
}

bool takes_projected_input(nn::GraphConv& conv) {
  return conv.transforms_every_source() || 2 * conv.out_features() < conv.in_features();
}

// A layer's input on this rank: its rows, or (projected by the layer before)
// its messages and root terms.
struct LayerInput {
  nn::FeatureMatrix rows;
  torch::Tensor messages, roots;
};

// The aggregation of every row of `source` (the layer's input or messages)
// over the layer's graph, `block` of its columns at a time: each block's
// table (own and halo rows) is fetched, aggregated chunk by chunk and freed
// before the next. Sum and mean aggregate each column on its own, so the
// result is the whole table's. The chunks' graphs are built once for all
// blocks.
torch::Tensor aggregate_in_column_blocks(nn::GraphConv& conv, EvalRows& rows, int layer,
                                         const nn::FeatureMatrix& source, int64_t block,
                                         int64_t chunk_nodes) {
  const int64_t n = rows.num_rows(layer), width = source.num_columns();
  std::vector<nn::LayerGraph> chunks;
  for (int64_t begin = 0; begin < n; begin += chunk_nodes)
    chunks.push_back(rows.chunk(layer, begin, std::min(n, begin + chunk_nodes)));
  torch::Tensor aggregated = torch::empty({n, width});
  for (int64_t first = 0; first < width; first += block) {
    const int64_t count = std::min(block, width - first);
    const torch::Tensor columns =
        source.map_rows([&](const torch::Tensor& x) { return x.narrow(1, first, count); })
            .contiguous();
    const torch::Tensor table = rows.table(layer, columns).widen();
    for (size_t i = 0; i < chunks.size(); ++i)
      aggregated.narrow(0, static_cast<int64_t>(i) * chunk_nodes, chunks[i].num_dst)
          .narrow(1, first, count)
          .copy_(conv.aggregate(table, chunks[i]));
  }
  return aggregated;
}

// Rows [begin, begin + count) into `all`, made (num_rows wide) on first use.
void store(torch::Tensor& all, const torch::Tensor& rows, int64_t num_rows, int64_t begin) {
  if (!rows.defined()) return;
  if (!all.defined()) all = torch::empty({num_rows, rows.size(1)}, rows.options());
  all.narrow(0, begin, rows.size(0)).copy_(rows);
}

}  // namespace

nn::LayerGraph WholeGraphRows::chunk(int, int64_t begin, int64_t end) {
  return nn::full_layer_graph(graph_, begin, end, normalization_);
}

torch::Tensor evaluate_layerwise(nn::GnnModel& model, const nn::FeatureMatrix& features,
                                 EvalRows& rows, const MemoryLevers& levers) {
  const int64_t chunk_nodes = levers.eval_chunk_nodes;
  check(chunk_nodes > 0, "--eval-chunk: {} is not a positive node count", chunk_nodes);
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  const int num_layers = model->num_layers();
  LayerInput in{features, {}, {}};
  for (int l = 0; l < num_layers; ++l) {
    nn::GraphConv& conv = model->conv(l);
    const bool computes = rows.computes(l);
    bool aggregates_messages = false;
    nn::FeatureMatrix table;
    // Every row's aggregation, where the table is fetched a block of columns
    // at a time (raw inputs, or messages if aggregates_messages).
    torch::Tensor aggregated;
    if (computes) {
      // A layer that multiplies nonzeros projects them itself, in forward().
      const bool multiplies_nonzeros = in.rows.nonzeros() && conv.reads_nonzeros();
      if (!in.messages.defined() && !multiplies_nonzeros && projects_first(conv, l, levers))
        in.messages = in.rows.map_rows([&](const torch::Tensor& x) { return conv.message(x); });
      aggregates_messages = in.messages.defined();
      const nn::FeatureMatrix source =
          aggregates_messages ? nn::FeatureMatrix(in.messages) : in.rows;
      const int64_t width = source.num_columns();
      const int64_t block = conv.transforms_every_source() ? width : rows.table_columns(l, width);
      if (block < width)
        aggregated = aggregate_in_column_blocks(conv, rows, l, source, block, chunk_nodes);
      else
        table = rows.table(l, source);
      in.messages = torch::Tensor();  // the table or the aggregation holds them now
    }
    nn::GraphConv* next =
        l + 1 < num_layers && takes_projected_input(model->conv(l + 1)) ? &model->conv(l + 1)
                                                                         : nullptr;
    const int64_t n = rows.num_rows(l);
    torch::Tensor out, next_messages, next_roots;
    for (int64_t begin = 0; begin < n; begin += chunk_nodes) {
      const int64_t count = std::min(n - begin, chunk_nodes);
      // Chunks of a blocked aggregation were read already; elsewhere every
      // rank takes its chunk, computing or not (a pipeline's sampler sends it).
      const nn::LayerGraph graph =
          aggregated.defined() ? nn::LayerGraph() : rows.chunk(l, begin, begin + count);
      torch::Tensor h;
      if (computes) {
        // The chunk's own rows: a compressed input widens a few MiB at a time.
        auto root_term = [&] {
          return in.roots.defined() ? in.roots.narrow(0, begin, count)
                 : in.rows.defined()
                     ? in.rows.map_rows([&](const torch::Tensor& x) { return conv.root(x); }, begin,
                                        count)
                     : torch::Tensor();
        };
        if (aggregated.defined()) {
          // Raw inputs were aggregated before their messages: message() is
          // linear, so it commutes with sum and mean.
          const torch::Tensor chunk = aggregated.narrow(0, begin, count);
          h = conv.update(aggregates_messages ? chunk : conv.message(chunk), root_term());
        } else if (aggregates_messages) {
          h = conv.update(conv.aggregate(table.widen(), graph), root_term());
        } else {
          h = conv.forward(table, graph);
        }
        h = model->activate(l, h);
      }
      const torch::Tensor received = rows.hand_over(l, h);
      if (!received.defined()) continue;
      if (next) {
        store(next_messages, next->message(received), n, begin);
        store(next_roots, next->root(received), n, begin);
      } else {
        store(out, received, n, begin);
      }
    }
    in = LayerInput{out, next_messages, next_roots};
  }
  model->train(was_training);
  return in.rows.defined() ? in.rows.widen() : torch::Tensor();
}

SplitCounts count_hits(const torch::Tensor& outputs, const graph::Graph& g) {
  SplitCounts counts;
  if (!outputs.defined()) return counts;
  check(outputs.size(0) == g.num_nodes, "evaluation: {} output rows for {} nodes of {}",
        outputs.size(0), g.num_nodes, g.name);
  const torch::Tensor predicted = outputs.argmax(1).contiguous();
  const int64_t* p = predicted.data_ptr<int64_t>();
  const graph::Buffer<uint8_t>* masks[] = {&g.train_mask, &g.val_mask, &g.test_mask};
  for (int64_t v = 0; v < g.num_nodes; ++v)
    for (int s = 0; s < 3; ++s)
      if ((*masks[s])[v]) {
        counts.hits[s] += p[v] == g.labels[v];
        ++counts.sizes[s];
      }
  return counts;
}

Accuracy accuracy_of(const SplitCounts& c) {
  auto ratio = [&](int s) { return c.sizes[s] > 0 ? double(c.hits[s]) / c.sizes[s] : 0.0; };
  return {ratio(0), ratio(1), ratio(2)};
}

}  // namespace edgegnn::train
