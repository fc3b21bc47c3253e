#include "runtime/board_profile.h"

#include <algorithm>
#include <fstream>

#include "core/error.h"

namespace edgegnn::runtime {
namespace {

// The presets' rates at one thread and at all four cores. No one has published
// float32 GEMM, row-gather or sampling rates for these boards: each is derived
// in docs/board-profiles.md ("How the preset rates are derived") from the
// boards' published HPL and memcpy figures and ratios measured on this
// project's machine. `edgegnn calibrate` on the board replaces them.
struct PresetRates {
  const char* family;  // the board names' prefix
  ComputeRates one, all;
};
constexpr double G = 1e9, M = 1e6;
// clang-format off
constexpr PresetRates kPresetRates[] = {
    //           threads GEMM      output GEMM aggregation sampled   messages
    {"pi3b+",  {1,  1.7 * G,  1.2 * G,  0.71 * G,  2.0 * M, 0.2 * G}, {4,  6.7 * G,  3.7 * G, 1.2 * G,  2.8 * M, 0.3 * G}},
    {"pi4",    {1,  8.6 * G,  6.2 * G,  1.6 * G,   4.5 * M, 0.4 * G}, {4, 34.4 * G, 18.9 * G, 2.7 * G,  6.3 * M, 0.7 * G}},
    {"pi5",    {1, 19.6 * G, 14.1 * G,  3.5 * G,  10.2 * M, 0.9 * G}, {4, 78.4 * G, 43.1 * G, 6.0 * G, 14.1 * M, 1.5 * G}},
    {"zero2w", {1,  1.2 * G,  0.86 * G, 0.82 * G,  2.4 * M, 0.2 * G}, {4,  4.8 * G,  2.6 * G, 1.4 * G,  3.3 * M, 0.35 * G}},
};
// clang-format on

}  // namespace

ComputeRates BoardProfile::at(double threads) const {
  check(!rates.empty(), "{}: the profile has no rates", name);
  const ComputeRates* base = &rates.front();
  for (const ComputeRates& r : rates) {
    if (r.threads == threads) return r;
    if (r.threads < threads) base = &r;
  }
  const double scale = threads / base->threads;
  return {static_cast<int>(threads),       base->gemm_flops * scale,
          base->output_gemm_flops * scale, base->aggregation_bytes * scale,
          base->sampled_edges * scale,     base->message_bytes * scale};
}

std::optional<BoardProfile> preset_profile(const Board& board) {
  for (const PresetRates& p : kPresetRates)
    if (board.name.rfind(p.family, 0) == 0)
      return BoardProfile{board.name,
                          "published figures, docs/board-profiles.md",
                          p.all.threads,
                          {p.one, p.all},
                          board.link_bits_per_second};
  return std::nullopt;
}

nlohmann::json to_json(const BoardProfile& profile) {
  nlohmann::json rates = nlohmann::json::array();
  for (const ComputeRates& r : profile.rates)
    rates.push_back({{"threads", r.threads},
                     {"gemm_gflops", r.gemm_flops / 1e9},
                     {"output_gemm_gflops", r.output_gemm_flops / 1e9},
                     {"aggregation_bytes_per_second", r.aggregation_bytes},
                     {"sampled_edges_per_second", r.sampled_edges},
                     {"message_bytes_per_second", r.message_bytes}});
  nlohmann::json j{{"name", profile.name},
                   {"source", profile.source},
                   {"cores", profile.cores},
                   {"rates", rates}};
  if (profile.link_bits_per_second > 0) j["link_bits_per_second"] = profile.link_bits_per_second;
  return j;
}

BoardProfile board_profile_from_json(const nlohmann::json& j, const std::string& what) {
  auto positive = [&](const nlohmann::json& object, const char* key) {
    check(object.is_object() && object.contains(key) && object[key].is_number() &&
              object[key].get<double>() > 0,
          "{}: '{}' is missing or not a positive number", what, key);
    return object[key].get<double>();
  };
  check(j.is_object() && j.contains("rates") && j["rates"].is_array() && !j["rates"].empty(),
        "{}: not a board profile (no 'rates'; write one with edgegnn calibrate --out)", what);
  BoardProfile p;
  p.name = j.value("name", what);
  p.source = j.value("source", "");
  for (const nlohmann::json& r : j["rates"])
    p.rates.push_back(
        {static_cast<int>(positive(r, "threads")), positive(r, "gemm_gflops") * 1e9,
         positive(r, "output_gemm_gflops") * 1e9, positive(r, "aggregation_bytes_per_second"),
         positive(r, "sampled_edges_per_second"),
         r.contains("message_bytes_per_second") ? positive(r, "message_bytes_per_second") : 0.0});
  std::sort(p.rates.begin(), p.rates.end(),
            [](const ComputeRates& a, const ComputeRates& b) { return a.threads < b.threads; });
  p.cores = static_cast<int>(j.contains("cores") ? positive(j, "cores") : p.rates.back().threads);
  if (j.contains("link_bits_per_second"))
    p.link_bits_per_second = static_cast<int64_t>(positive(j, "link_bits_per_second"));
  return p;
}

BoardProfile read_board_profile(const std::string& path, const std::string& flag) {
  std::ifstream in(path);
  check(in.good(), "{}: cannot read {}", flag, path);
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  check(!j.is_discarded(), "{}: {} is not JSON", flag, path);
  BoardProfile p = board_profile_from_json(j, flag + ": " + path);
  if (p.name.empty()) p.name = path;
  return p;
}

}  // namespace edgegnn::runtime
