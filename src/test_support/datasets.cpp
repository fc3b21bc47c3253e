#include "test_support/datasets.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <vector>
#include <cstdlib>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace edgegnn::test {

std::filesystem::path datasets_dir() {
  if (const char* env = std::getenv("EDGEGNN_DATASETS")) return env;
  return std::filesystem::path(EDGEGNN_SOURCE_DIR) / ".." / "shared" / "datasets";
}

namespace {

// Scratch directories are removed when the test binary ends, unless a test
// failed: then they stay, to look at. Constructed at the first scratch_dir,
// after gtest's UnitTest, so destroyed before it.
struct ScratchDirs {
  std::vector<std::filesystem::path> dirs;
  ~ScratchDirs() {
    if (::testing::UnitTest::GetInstance()->Failed()) return;
    std::error_code ignored;
    for (const auto& dir : dirs) std::filesystem::remove_all(dir, ignored);
  }
};

}  // namespace

std::filesystem::path scratch_dir(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string test = info ? std::string(info->test_suite_name()) + "." + info->name() : "test";
  // Parameterized suites are named "Prefix/Suite": one directory, not two.
  std::replace(test.begin(), test.end(), '/', '.');
  auto dir = std::filesystem::temp_directory_path() /
             ("edgegnn-" + test + "-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  static ScratchDirs scratch;
  scratch.dirs.push_back(dir);
  return dir;
}

std::string python_with_scipy() {
  // Debian's interpreter, not one earlier on PATH: the packages come from apt.
  const std::string python = "/usr/bin/python3";
  std::string out;
  if (run_command(python + " -c 'import numpy, scipy.sparse'", &out) == 0) return python;
  return "";
}

void run_python_script(const std::string& python, const std::filesystem::path& dir,
                       const std::string& script) {
  std::ofstream(dir / "script.py") << script;
  std::string output;
  int code = run_command(python + " " + (dir / "script.py").string() + " " + dir.string(), &output);
  ASSERT_EQ(code, 0) << output;
}

CommandResult run_edgegnn(const std::string& args) {
  CommandResult run;
  run.exit_code = run_command(edgegnn_binary() + " " + args, &run.output);
  return run;
}

std::string edgegnn_binary() { return EDGEGNN_BINARY; }

int run_command(const std::string& command, std::string* output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  char buffer[4096];
  output->clear();
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output->append(buffer, n);
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace edgegnn::test
