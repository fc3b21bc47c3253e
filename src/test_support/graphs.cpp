#include "test_support/graphs.h"

namespace edgegnn::test {

graph::Graph path_graph() {
  return graph::make_graph({"path", /*num_features=*/2, /*num_classes=*/2,
                            /*rowptr=*/{0, 1, 3, 4}, /*col=*/{1, 0, 2, 1},
                            /*features=*/{1, 2, 3, 4, 5, 6}, /*labels=*/{0, 1, -1},
                            /*train_mask=*/{1, 0, 0}, /*val_mask=*/{0, 1, 0},
                            /*test_mask=*/{0, 0, 1}},
                           "path");
}

}  // namespace edgegnn::test
