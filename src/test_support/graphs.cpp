#include "test_support/graphs.h"

#include <algorithm>

namespace edgegnn::test {

graph::Graph path_graph() {
  return graph::make_graph({"path", /*num_features=*/2, /*num_classes=*/2,
                            /*rowptr=*/{0, 1, 3, 4}, /*col=*/{1, 0, 2, 1},
                            /*features=*/{1, 2, 3, 4, 5, 6}, /*labels=*/{0, 1, -1},
                            /*train_mask=*/{1, 0, 0}, /*val_mask=*/{0, 1, 0},
                            /*test_mask=*/{0, 0, 1}},
                           "path");
}

graph::Graph relabel_graph(const graph::Graph& g, std::span<const int32_t> new_ids) {
  const int64_t n = g.num_nodes, f = g.num_features;
  std::vector<int32_t> old_id(n);
  for (int64_t v = 0; v < n; ++v) old_id[new_ids[v]] = static_cast<int32_t>(v);
  graph::GraphArrays a{g.name, f, g.num_classes, {0}, {}, {}, {}, {}, {}, {}};
  for (int64_t w = 0; w < n; ++w) {
    const int32_t v = old_id[w];
    const size_t first = a.col.size();
    for (int32_t u : g.in_neighbors(v)) a.col.push_back(new_ids[u]);
    std::sort(a.col.begin() + static_cast<int64_t>(first), a.col.end());
    a.rowptr.push_back(static_cast<int64_t>(a.col.size()));
    auto row = g.feature_row(v);
    a.features.insert(a.features.end(), row.begin(), row.end());
    a.labels.push_back(g.labels[v]);
    a.train_mask.push_back(g.train_mask[v]);
    a.val_mask.push_back(g.val_mask[v]);
    a.test_mask.push_back(g.test_mask[v]);
  }
  return graph::make_graph(std::move(a), g.name + " relabelled");
}

}  // namespace edgegnn::test
