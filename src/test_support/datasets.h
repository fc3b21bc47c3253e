// Where tests find the shared real datasets and scratch space.
#pragma once

#include <filesystem>
#include <string>

namespace edgegnn::test {

// ../shared/datasets beside the checkout, or $EDGEGNN_DATASETS when set.
std::filesystem::path datasets_dir();

// A fresh empty directory under the system temp dir, unique to this test;
// removed when the test binary ends, unless a test failed.
std::filesystem::path scratch_dir(const std::string& name);

// The Debian python3 that has numpy and scipy, or "" when absent.
std::string python_with_scipy();

// Writes `script` to dir/script.py and runs it with `python`, passing `dir` as
// its argument; fails the test (with the script's output) unless it exits 0.
void run_python_script(const std::string& python, const std::filesystem::path& dir,
                       const std::string& script);

// Path of the built edgegnn binary.
std::string edgegnn_binary();

// Runs a shell command, returns its exit code; stdout+stderr go to `output`.
int run_command(const std::string& command, std::string* output);

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr
};

// Runs the edgegnn binary with `args` (a shell word list).
CommandResult run_edgegnn(const std::string& args);

}  // namespace edgegnn::test
