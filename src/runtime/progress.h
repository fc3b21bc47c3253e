// Progress: a per-epoch progress bar on a terminal, plain lines otherwise.
//
// On a terminal (stderr is a tty) the bar is redrawn in place at most ten
// times a second; elsewhere (logs, CI) it prints only each epoch's summary
// line, so logs stay short. Not thread-safe: call from the training thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace edgegnn::runtime {

class Progress {
 public:
  // `enabled` false prints nothing; `stream` defaults to stderr.
  explicit Progress(bool enabled, std::FILE* stream = stderr);

  void start_epoch(int64_t epoch, int64_t num_epochs, int64_t num_steps);
  // Step `done` of the epoch finished; `status` is shown after the bar.
  void step(int64_t done, const std::string& status);
  // Replaces the bar with a transient status (e.g. "evaluating") on a
  // terminal; prints nothing elsewhere.
  void status(const std::string& text);
  // Ends the epoch's bar with a summary line.
  void end_epoch(const std::string& summary);
  // A free line (e.g. evaluation results).
  void line(const std::string& text);

  bool is_terminal() const { return terminal_; }

 private:
  bool enabled_, terminal_;
  std::FILE* stream_;
  int64_t epoch_ = 0, num_epochs_ = 0, num_steps_ = 0;
  std::chrono::steady_clock::time_point epoch_start_, last_draw_;
};

}  // namespace edgegnn::runtime
