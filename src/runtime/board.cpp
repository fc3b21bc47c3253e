#include "runtime/board.h"

#include <cctype>
#include <cmath>
#include <sstream>

#include "core/error.h"
#include "runtime/size.h"

namespace edgegnn::runtime {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int64_t kGiB = int64_t{1} << 30;
constexpr int64_t kMbit = 1'000'000;
constexpr int64_t kGbit = 1'000'000'000;

struct Preset {
  const char* name;
  int64_t ram_bytes;
  int64_t link_bits_per_second;
};

// The Pi 3B+'s gigabit port sits behind USB 2.0, which caps it near 300 Mbit/s;
// the Zero 2 W has only 2.4 GHz WiFi, about 40 Mbit/s in practice.
constexpr Preset kPresets[] = {
    {"pi3b+", 1 * kGiB, 300 * kMbit}, {"pi4-1g", 1 * kGiB, kGbit},
    {"pi4-2g", 2 * kGiB, kGbit},      {"pi4-4g", 4 * kGiB, kGbit},
    {"pi4-8g", 8 * kGiB, kGbit},      {"pi5-4g", 4 * kGiB, kGbit},
    {"pi5-8g", 8 * kGiB, kGbit},      {"zero2w", 512 * kMiB, 40 * kMbit},
};

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string preset_names() {
  std::string names;
  for (const Preset& preset : kPresets) names += fmt::format("{}, ", preset.name);
  return names + "or custom:<RAM>/<RATE> such as custom:768MiB/100mbit";
}

}  // namespace

int64_t Board::os_reserve_bytes() const { return ram_bytes <= kGiB ? 128 * kMiB : 256 * kMiB; }

int64_t parse_link_rate(const std::string& text, const std::string& flag) {
  auto not_a_rate = [&] {
    return Error(
        fmt::format("{}: '{}' is not a link rate (use e.g. 100mbit or 1gbit)", flag, text));
  };
  // Digits with an optional fraction, parsed by hand as parse_size does.
  size_t i = 0;
  double value = 0;
  int num_digits = 0;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i, ++num_digits)
    value = value * 10 + (text[i] - '0');
  if (i < text.size() && text[i] == '.') {
    double scale = 0.1;
    for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]));
         ++i, ++num_digits, scale /= 10)
      value += scale * (text[i] - '0');
  }
  if (num_digits == 0) throw not_a_rate();
  const std::string unit = lower(text.substr(i));
  double multiplier = 0;
  if (unit == "bit") multiplier = 1;
  if (unit == "kbit") multiplier = 1e3;
  if (unit == "mbit") multiplier = 1e6;
  if (unit == "gbit") multiplier = 1e9;
  if (multiplier == 0) throw not_a_rate();
  const double bits = std::round(value * multiplier);
  // tbf needs a rate it can time: below 8 kbit/s one full frame takes seconds.
  check(bits >= 8e3 && bits <= 100e9, "{}: link rate '{}' is outside 8kbit to 100gbit", flag, text);
  return static_cast<int64_t>(bits);
}

Board parse_board(const std::string& text, const std::string& flag) {
  for (const Preset& preset : kPresets)
    if (lower(text) == preset.name)
      return Board{preset.name, preset.ram_bytes, preset.link_bits_per_second};
  const std::string prefix = "custom:";
  if (lower(text).rfind(prefix, 0) != 0)
    fail("{}: '{}' is not a board ({})", flag, text, preset_names());
  const size_t slash = text.find('/', prefix.size());
  check(slash != std::string::npos,
        "{}: '{}' needs its RAM and link rate, e.g. custom:768MiB/100mbit", flag, text);
  Board board;
  board.name = text;
  board.ram_bytes = parse_size(text.substr(prefix.size(), slash - prefix.size()), flag);
  board.link_bits_per_second = parse_link_rate(text.substr(slash + 1), flag);
  check(board.memory_limit_bytes() > 0,
        "{}: '{}' has {} of RAM, no more than the {} OS reserve of such a board", flag, text,
        format_board_bytes(board.ram_bytes), format_board_bytes(board.os_reserve_bytes()));
  return board;
}

std::vector<Board> parse_boards(const std::string& list, int num_devices, const std::string& flag) {
  std::vector<Board> boards;
  std::istringstream items(list);
  for (std::string item; std::getline(items, item, ',');) boards.push_back(parse_board(item, flag));
  check(!boards.empty(), "{}: no board given", flag);
  if (boards.size() == 1) boards.resize(num_devices, boards.front());
  check(static_cast<int>(boards.size()) == num_devices,
        "{}: {} boards for {} devices (give one board for all, or one per device)", flag,
        boards.size(), num_devices);
  return boards;
}

std::string format_board_bytes(int64_t bytes) {
  if (bytes > 0 && bytes % kGiB == 0) return fmt::format("{} GiB", bytes / kGiB);
  if (bytes > 0 && bytes % kMiB == 0) return fmt::format("{} MiB", bytes / kMiB);
  return format_bytes(bytes);
}

std::string format_link_rate(int64_t bits_per_second) {
  if (bits_per_second % kGbit == 0) return fmt::format("{}gbit", bits_per_second / kGbit);
  if (bits_per_second % kMbit == 0) return fmt::format("{}mbit", bits_per_second / kMbit);
  if (bits_per_second % 1000 == 0) return fmt::format("{}kbit", bits_per_second / 1000);
  return fmt::format("{}bit", bits_per_second);
}

}  // namespace edgegnn::runtime
