// Board profiles: the rates an epoch's time depends on, for the planner's time
// model (train/time_model.h). A profile comes from `edgegnn calibrate` on the
// board itself (a JSON file), or, for the presets, from published measurements
// of the boards (docs/board-profiles.md cites each figure and how the rates
// not measured by anyone are derived from those that are).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/board.h"

namespace edgegnn::runtime {

// What a device does per second with `threads` threads.
struct ComputeRates {
  int threads = 1;
  double gemm_flops = 0;         // float32 GEMM to hidden-wide outputs (602 -> 256)
  double output_gemm_flops = 0;  // float32 GEMM to class-wide outputs (256 -> 41)
  double aggregation_bytes = 0;  // rows read by a CSR mean aggregation
  double sampled_edges = 0;      // neighbour sampling, reddit.py's fanouts
  // Bytes Gloo moves between two processes of the board over loopback: the
  // CPU cost of messages where devices share its cores. 0: not measured.
  double message_bytes = 0;
};

struct BoardProfile {
  std::string name;    // the preset, or the file it was read from
  std::string source;  // "calibrated on <host>", "published figures (docs/board-profiles.md)"
  int cores = 1;       // the threads a device on it trains with by default
  std::vector<ComputeRates> rates;   // by thread count, ascending; never empty
  int64_t link_bits_per_second = 0;  // 0: not measured (the board's or the plan's link applies)

  // The rates with `threads` threads: the measured entry, or linear in the
  // thread count from the nearest one below (above, when there is none).
  ComputeRates at(double threads) const;
};

// The preset's profile, from the board's published figures; none for a
// custom board (`edgegnn calibrate` on it writes its profile).
std::optional<BoardProfile> preset_profile(const Board& board);

// A profile written by `edgegnn calibrate --out`; throws Error naming `flag`
// and the file when it cannot be read or is not a profile.
BoardProfile read_board_profile(const std::string& path, const std::string& flag);

nlohmann::json to_json(const BoardProfile& profile);
BoardProfile board_profile_from_json(const nlohmann::json& j, const std::string& what);

}  // namespace edgegnn::runtime
