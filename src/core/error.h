// The one error type for everything a user or the environment can cause: a bad
// flag, an unreadable or corrupt file, an exceeded budget, a peer that timed out.
// Messages say what failed, on what, and what was expected, e.g.
//   "ind.cora.graph: unsupported pickle opcode 0x95".
// Only src/cli catches; it prints one line and exits 2. Library code never prints.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace edgegnn {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Throws Error with a fmt-formatted message when `cond` is false. The message is
// only formatted on failure, so checks are cheap on hot paths.
template <typename... Args>
inline void check(bool cond, fmt::format_string<Args...> format, Args&&... args) {
  if (!cond) [[unlikely]]
    throw Error(fmt::format(format, std::forward<Args>(args)...));
}

template <typename... Args>
[[noreturn]] inline void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace edgegnn
