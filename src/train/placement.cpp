#include "train/placement.h"

#include <algorithm>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"

namespace edgegnn::train {

std::string Placement::roles_of(int rank) const {
  std::vector<std::string> roles;
  if (sampler == rank) roles.push_back("sampler");
  if (features == rank) roles.push_back("features");
  for (int l = 0; l < num_layers(); ++l)
    if (layers[l] == rank) roles.push_back(fmt::format("layer{}", l + 1));
  if (loss == rank) roles.push_back("loss");
  return fmt::format("{}", fmt::join(roles, "+"));
}

std::string Placement::describe() const {
  std::vector<std::string> parts;
  for (int r = 0; r < num_ranks; ++r) parts.push_back(fmt::format("rank {} = {}", r, roles_of(r)));
  return fmt::format("{}", fmt::join(parts, ", "));
}

Placement default_placement(int num_layers, int num_ranks) {
  check(num_layers >= 1, "pipeline: needs at least one layer");
  check(num_ranks >= 1 && num_ranks <= num_layers + 1,
        "--devices: a pipeline of {} layers runs on 1 to {} devices (sampler, then one per layer), "
        "not {}",
        num_layers, num_layers + 1, num_ranks);
  Placement p;
  p.num_ranks = num_ranks;
  p.sampler = 0;
  for (int l = 0; l < num_layers; ++l) p.layers.push_back(std::min(l + 1, num_ranks - 1));
  p.features = p.layers.front();
  p.loss = p.layers.back();
  return p;
}

Placement parse_placement(const std::string& text, int num_layers, int num_ranks) {
  Placement p = default_placement(num_layers, num_ranks);
  if (text.empty()) return p;
  std::set<std::string> seen;
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    const size_t colon = item.find(':');
    check(colon != std::string::npos, "--placement: '{}' is not ROLE:RANK", item);
    const std::string role = item.substr(0, colon), rank_text = item.substr(colon + 1);
    int rank = -1;
    try {
      size_t used = 0;
      rank = std::stoi(rank_text, &used);
      if (used != rank_text.size()) rank = -1;
    } catch (const std::exception&) {
    }
    check(rank >= 0 && rank < num_ranks, "--placement: '{}': rank must be in [0, {})", item,
          num_ranks);
    check(seen.insert(role).second, "--placement: role '{}' is placed twice", role);
    if (role == "sampler") {
      p.sampler = rank;
    } else if (role == "features") {
      p.features = rank;
    } else if (role == "loss") {
      p.loss = rank;
    } else if (role.starts_with("layer")) {
      int layer = 0;
      try {
        layer = std::stoi(role.substr(5));
      } catch (const std::exception&) {
      }
      check(layer >= 1 && layer <= num_layers && role == fmt::format("layer{}", layer),
            "--placement: '{}' names no layer of this {}-layer model", role, num_layers);
      p.layers[layer - 1] = rank;
    } else {
      fail("--placement: unknown role '{}' (sampler, features, layer1..layer{}, loss)", role,
           num_layers);
    }
  }
  // Unnamed, the features follow layer 1.
  if (!seen.contains("features")) p.features = p.layers.front();
  check(p.features == p.layers.front(),
        "--placement: features (rank {}) and layer1 (rank {}) must share a rank: layer 1 reads "
        "the feature matrix in place",
        p.features, p.layers.front());
  for (int r = 0; r < num_ranks; ++r)
    check(!p.roles_of(r).empty(), "--placement: rank {} has no role ({})", r, p.describe());
  return p;
}

}  // namespace edgegnn::train
