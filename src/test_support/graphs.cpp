#include "test_support/graphs.h"

namespace edgegnn::test {

graph::Graph path_graph() {
  using graph::Buffer;
  graph::Graph g;
  g.name = "path";
  g.num_nodes = 3;
  g.num_features = 2;
  g.num_classes = 2;
  g.rowptr = Buffer(std::vector<int64_t>{0, 1, 3, 4});
  g.col = Buffer(std::vector<int32_t>{1, 0, 2, 1});
  g.features = Buffer(std::vector<float>{1, 2, 3, 4, 5, 6});
  g.labels = Buffer(std::vector<int32_t>{0, 1, -1});
  g.train_mask = Buffer(std::vector<uint8_t>{1, 0, 0});
  g.val_mask = Buffer(std::vector<uint8_t>{0, 1, 0});
  g.test_mask = Buffer(std::vector<uint8_t>{0, 0, 1});
  return g;
}

}  // namespace edgegnn::test
