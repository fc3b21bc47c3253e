// Checkpoints: a training run's model, optimizer, torch RNG state and a JSON
// description (epoch, options, history), saved after every epoch so a run can
// resume and end with the same weights as an uninterrupted one.
//
// A checkpoint directory holds:
//   checkpoint.pt    everything needed to resume (a torch archive)
//   model.pt         the weights alone as a state dict that Python's
//                    torch.load() reads (names as PyG's modules)
//   checkpoint.json  the description, for people
// The files are written to temporary names and renamed over the old ones only
// once all three are written, so a save that fails (a full disk) leaves the
// previous checkpoint whole. Errors (a file that cannot be written, read, or is
// no checkpoint of this version) are Errors naming the file.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace edgegnn::runtime {

inline constexpr const char* kCheckpointMagic = "edgegnn-checkpoint";
inline constexpr int kCheckpointVersion = 1;

// `aliases`: further names model.pt gives a parameter, as (alias, name), so
// it loads into modules that share one under two names (PyG's GATConv).
void save_checkpoint(const std::filesystem::path& dir, const torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, const nlohmann::json& meta,
                     const std::vector<std::pair<std::string, std::string>>& aliases = {});

// The description saved with the checkpoint in `dir`; checks magic and version.
nlohmann::json read_checkpoint_meta(const std::filesystem::path& dir);

// Restores parameters (shapes must match), the optimizer's state when given,
// and torch's default generator.
void load_checkpoint(const std::filesystem::path& dir, torch::nn::Module& model,
                     torch::optim::Optimizer* optimizer);

}  // namespace edgegnn::runtime
