#include "runtime/memory_meter.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace edgegnn::runtime {
namespace {

int64_t status_kib(const char* key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  const size_t key_length = std::strlen(key);
  while (std::getline(status, line))
    if (line.compare(0, key_length, key) == 0 && line[key_length] == ':')
      return std::stoll(line.substr(key_length + 1)) * 1024;
  return -1;
}

}  // namespace

int64_t rss_bytes() { return status_kib("VmRSS"); }
int64_t peak_rss_bytes() { return status_kib("VmHWM"); }

bool reset_peak_rss() {
  std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (!f) return false;
  bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

}  // namespace edgegnn::runtime
