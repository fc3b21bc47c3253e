// Counter-based randomness: a stream is a pure function of (seed, key...), so a
// result keyed on the item being processed (a node, a chunk) is the same
// whatever thread processes it. SplitMix64 (Steele, Lea, Flood 2014).
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <utility>
#include <vector>

namespace edgegnn {

// SplitMix64's finaliser: a bijection on 64 bits that mixes well.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

inline constexpr uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;

// One SplitMix64 step from x.
inline uint64_t splitmix64(uint64_t x) { return mix64(x + kGoldenGamma); }

// A small generator whose whole state is derived from its keys.
class KeyedRandom {
 public:
  explicit KeyedRandom(uint64_t seed, uint64_t key1 = 0, uint64_t key2 = 0)
      : state_(splitmix64(splitmix64(splitmix64(seed) ^ key1) ^ key2)) {}
  // A generator started at `state` (callers that derive their own start).
  static KeyedRandom from_state(uint64_t state) { return KeyedRandom(state, Raw{}); }

  uint64_t next() { return mix64(state_ += kGoldenGamma); }
  // Uniform in [0, n) by Lemire's multiply-shift; the bias is below n / 2^64.
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  // Uniform in (0, 1]: never 0, so log() is always finite.
  double uniform() { return static_cast<double>((next() >> 11) + 1) * 0x1.0p-53; }
  // Box–Muller: two independent standard normals per call.
  std::pair<double, double> normal_pair() {
    double r = std::sqrt(-2.0 * std::log(uniform()));
    double theta = 2.0 * std::numbers::pi * uniform();
    return {r * std::cos(theta), r * std::sin(theta)};
  }

 private:
  struct Raw {};
  KeyedRandom(uint64_t state, Raw) : state_(state) {}
  uint64_t state_;
};

// A uniform permutation of [0, n) drawn from `rng` (Fisher–Yates, from the end).
inline std::vector<int32_t> random_permutation(int64_t n, KeyedRandom rng) {
  std::vector<int32_t> perm(n);
  for (int64_t i = 0; i < n; ++i) perm[i] = static_cast<int32_t>(i);
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(perm[i], perm[rng.below(static_cast<uint64_t>(i) + 1)]);
  return perm;
}

}  // namespace edgegnn
