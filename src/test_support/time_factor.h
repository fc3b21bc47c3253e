// The one factor every wall-clock bound in the tests is scaled by.
//
// A test waits for events (a line of output, a process ending) rather than
// sleeping, and bounds its waits only to fail rather than hang. Those bounds,
// and the few that assert "fast enough" (a failure is diagnosed within the
// timeout plus some slack), are written as what this project's 2-core machine
// needs when idle, and multiplied by test_time_factor().
//
// The default, 3, is for that machine running the suite (ctest -j2) beside a
// parallel build (ninja -j2): four busy processes on two cores, each at about
// half a core and sharing caches. A one-thread Cora GCN run that takes 32 s
// idle took 52-74 s beside two such builds, up to 2.3x; 3 leaves a margin.
// Set EDGEGNN_TEST_TIME_FACTOR for other hosts: higher on a Pi, under qemu or
// sanitizers, lower on a fast idle machine to catch slow paths sooner.
//
// Header-only: a test binary needs only edgegnn_core for it.
#pragma once

#include <cstdlib>

#include "core/error.h"

namespace edgegnn::test {

inline double test_time_factor() {
  static const double factor = [] {
    const char* text = std::getenv("EDGEGNN_TEST_TIME_FACTOR");
    if (!text) return 3.0;
    char* end = nullptr;
    const double value = std::strtod(text, &end);
    check(end != text && *end == '\0' && value > 0,
          "EDGEGNN_TEST_TIME_FACTOR: '{}' is not a positive number", text);
    return value;
  }();
  return factor;
}

// `idle_seconds`, what something takes at most on an idle machine, scaled.
inline double scaled_seconds(double idle_seconds) { return idle_seconds * test_time_factor(); }

}  // namespace edgegnn::test
