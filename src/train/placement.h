// Placement: which rank runs each role of a pipeline (docs/training.md, "Pipeline").
// Roles: the sampler (graph structure: produces every layer's block and
// the seeds' labels), the features (the feature matrix), layer k (its weights,
// 1-based as on the command line) and the loss.
//
// The default for an L-layer model on N <= L + 1 devices: sampler on rank 0,
// features and layer 1 on rank min(1, N-1), layer k on rank min(k, N-1), the
// loss with the last layer. --placement overrides any of them, e.g.
// "sampler:0,features:1,layer1:1,layer2:2,loss:2"; roles it leaves out keep
// their default rank.
//
// The features share layer 1's rank: layer 1 reads the feature matrix in place
// by node id, and sending a batch's gathered input rows instead would move
// 110 K x 602 floats (265 MB) per Reddit batch.
#pragma once

#include <string>
#include <vector>

namespace edgegnn::train {

struct Placement {
  int num_ranks = 1;
  int sampler = 0;
  int features = 0;
  std::vector<int> layers;  // rank of each layer, 0-based layer index
  int loss = 0;

  int num_layers() const { return static_cast<int>(layers.size()); }
  bool runs_layer(int rank, int layer) const { return layers[layer] == rank; }
  // "sampler", "features+layer1", "layer2+loss", ... ("" for no role).
  std::string roles_of(int rank) const;
  // "rank 0 = sampler, rank 1 = features+layer1, ..."
  std::string describe() const;
};

// Throws Error naming --devices when the model has fewer layers than needed
// to give every device a role.
Placement default_placement(int num_layers, int num_ranks);

// The default with the roles `text` names moved; throws Error naming
// --placement for an unknown role, a rank outside [0, num_ranks), a role
// given twice, features apart from layer 1, or a rank left without a role.
Placement parse_placement(const std::string& text, int num_layers, int num_ranks);

}  // namespace edgegnn::train
