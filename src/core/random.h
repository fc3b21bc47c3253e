// Counter-based randomness: a stream is a pure function of (seed, key...), so a
// result keyed on the item being processed (a node, a chunk) is the same
// whatever thread processes it. SplitMix64 mixing (Steele, Lea, Flood 2014).
#pragma once

#include <cstdint>

namespace edgegnn {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A small generator whose whole state is derived from its keys.
class KeyedRandom {
 public:
  explicit KeyedRandom(uint64_t seed, uint64_t key1 = 0, uint64_t key2 = 0)
      : state_(splitmix64(splitmix64(splitmix64(seed) ^ key1) ^ key2)) {}

  uint64_t next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) by Lemire's multiply-shift; the bias is below n / 2^64.
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  // Uniform in [0, 1).
  double uniform() { return (next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

}  // namespace edgegnn
