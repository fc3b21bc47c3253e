#include "graph/dataset.h"

#include <algorithm>
#include <array>

#include "graph/binary_format.h"
#include "graph/edge_list.h"
#include "graph/metis_graph.h"
#include "graph/npz_datasets.h"
#include "graph/planetoid.h"
#include "graph/synthetic.h"

namespace edgegnn::graph {
namespace {

constexpr std::array<const char*, 3> kPlanetoidNames = {"cora", "citeseer", "pubmed"};
constexpr std::string_view kSyntheticPrefix = "synthetic-";

void require_root(const std::string& name, const std::string& root, const char* what) {
  check(!root.empty(), "--root: dataset '{}' needs --root ({})", name, what);
  check(std::filesystem::exists(root), "--root: {} does not exist", root);
}

Graph load_whole_dataset(const std::string& name, const std::string& root,
                         const LoadOptions& options) {
  if (is_planetoid_name(name)) {
    require_root(name, root, "the directory holding the ind.<name>.* files");
    return read_planetoid(root, name);
  }
  if (name == "reddit") {
    require_root(name, root, "the directory holding reddit_data.npz and reddit_graph.npz");
    return read_reddit_npz(root);
  }
  if (name == "npz") {
    require_root(name, root, "the path of a gnn-benchmark .npz file");
    return read_gnn_benchmark_npz(root, options.seed);
  }
  if (name == "edgegnn") {
    require_root(name, root, "a directory written by 'edgegnn generate' or 'edgegnn partition'");
    OpenOptions open;
    open.parts = options.parts;
    return open_binary_graph(root, open);
  }
  if (name == "edgelist") {
    require_root(name, root, "the path of an edge list file, plain or .gz");
    return read_edge_list(root, options);
  }
  if (name == "metis") {
    require_root(name, root, "the path of a METIS graph file");
    return read_metis_graph(root, options);
  }
  if (name.starts_with(kSyntheticPrefix)) {
    check(root.empty(), "--root: synthetic datasets are generated in memory; drop --root");
    return generate_synthetic(synthetic_preset(name.substr(kSyntheticPrefix.size())),
                              {options.seed, options.num_threads});
  }
  std::string presets;
  for (const auto& preset : synthetic_preset_names()) presets += ", synthetic-" + preset;
  fail(
      "--dataset: unknown dataset '{}' (known: cora, citeseer, pubmed, reddit, npz, edgegnn, "
      "edgelist, metis{})",
      name, presets);
}

}  // namespace

bool is_planetoid_name(const std::string& name) {
  return std::find(kPlanetoidNames.begin(), kPlanetoidNames.end(), name) != kPlanetoidNames.end();
}

Graph load_dataset(const std::string& name, const std::string& root, const LoadOptions& options,
                   std::vector<std::string>* warnings) {
  Graph g = load_whole_dataset(name, root, options);
  keep_only(g, options.parts);
  if (warnings && g.has_features) {
    const int64_t non_finite = count_non_finite(g.features, options.num_threads);
    if (non_finite > 0)
      warnings->push_back(
          fmt::format("{}: {} non-finite feature values (NaN or inf)", g.name, non_finite));
  }
  return g;
}

}  // namespace edgegnn::graph
