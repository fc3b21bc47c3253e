#include "runtime/progress.h"

#include <unistd.h>

#include <fmt/format.h>

namespace edgegnn::runtime {

Progress::Progress(bool enabled, std::FILE* stream)
    : enabled_(enabled), terminal_(isatty(fileno(stream)) == 1), stream_(stream) {}

void Progress::start_epoch(int64_t epoch, int64_t num_epochs, int64_t num_steps) {
  epoch_ = epoch;
  num_epochs_ = num_epochs;
  num_steps_ = num_steps;
  epoch_start_ = last_draw_ = std::chrono::steady_clock::now();
}

void Progress::step(int64_t done, const std::string& status) {
  if (!enabled_ || !terminal_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < num_steps_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  constexpr int kWidth = 30;
  const int filled = num_steps_ > 0 ? static_cast<int>(kWidth * done / num_steps_) : kWidth;
  const double seconds = std::chrono::duration<double>(now - epoch_start_).count();
  fmt::print(stream_, "\r\033[Kepoch {}/{} [{}{}] {}/{} {:.1f}s {}", epoch_, num_epochs_,
             std::string(filled, '#'), std::string(kWidth - filled, '.'), done, num_steps_,
             seconds, status);
  std::fflush(stream_);
}

void Progress::status(const std::string& text) {
  if (!enabled_ || !terminal_) return;
  fmt::print(stream_, "\r\033[Kepoch {}/{} {}", epoch_, num_epochs_, text);
  std::fflush(stream_);
}

void Progress::end_epoch(const std::string& summary) {
  if (!enabled_) return;
  fmt::print(stream_, "{}epoch {}/{} {}\n", terminal_ ? "\r\033[K" : "", epoch_, num_epochs_,
             summary);
  std::fflush(stream_);
}

void Progress::line(const std::string& text) {
  if (!enabled_) return;
  fmt::print(stream_, "{}\n", text);
  std::fflush(stream_);
}

}  // namespace edgegnn::runtime
