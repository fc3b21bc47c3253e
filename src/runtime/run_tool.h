// Runs a tool (ip, tc, ssh-keygen, ssh, rsync) to completion, argv without a
// shell, stdin on /dev/null, and says what went wrong when it fails.
#pragma once

#include <string>
#include <vector>

namespace edgegnn::runtime {

// "" on success, else "`ip netns add x` failed: <its stderr on one line>" or
// "cannot run 'ip' (No such file or directory)". Its stdout goes to `out`
// when given, else to /dev/null.
std::string run_tool(const std::vector<std::string>& args, std::string* out = nullptr);

}  // namespace edgegnn::runtime
