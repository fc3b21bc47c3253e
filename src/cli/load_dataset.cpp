#include <fmt/format.h>

#include <cstdio>

#include "cli/commands.h"

namespace edgegnn::cli {

graph::Graph load_dataset_and_warn(const std::string& dataset, const std::string& root,
                                   const graph::LoadOptions& options) {
  std::vector<std::string> warnings;
  graph::Graph g = graph::load_dataset(dataset, root, options, &warnings);
  for (const std::string& warning : warnings) fmt::print(stderr, "edgegnn: warning: {}\n", warning);
  return g;
}

}  // namespace edgegnn::cli
