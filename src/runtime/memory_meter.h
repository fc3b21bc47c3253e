// Memory meter: this process's resident set size from /proc/self/status.
// VmHWM is the kernel's own high-water mark, so a peak between two reads is
// never missed. Linux only; every read is a few microseconds.
#pragma once

#include <cstdint>

namespace edgegnn::runtime {

int64_t rss_bytes();       // VmRSS now
int64_t peak_rss_bytes();  // VmHWM since start or since the last reset_peak_rss()

// Resets the kernel's high-water mark to the current RSS (writes 5 to
// /proc/self/clear_refs), so a phase's own peak can be measured. Returns false
// where the kernel refuses.
bool reset_peak_rss();

}  // namespace edgegnn::runtime
