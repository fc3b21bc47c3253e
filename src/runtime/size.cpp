#include "runtime/size.h"

#include <cctype>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace edgegnn::runtime {
namespace {

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Bytes per unit, or 0 for an unknown unit.
long double unit_bytes(const std::string& unit) {
  static const struct {
    const char* name;
    long double bytes;
  } kUnits[] = {
      {"", 1},       {"b", 1},         {"kb", 1e3L},     {"mb", 1e6L},     {"gb", 1e9L},
      {"tb", 1e12L}, {"kib", 0x1p10L}, {"mib", 0x1p20L}, {"gib", 0x1p30L}, {"tib", 0x1p40L},
  };
  const std::string key = lower(unit);
  for (const auto& u : kUnits)
    if (key == u.name) return u.bytes;
  return 0;
}

}  // namespace

int64_t parse_size(const std::string& text, const std::string& flag) {
  auto not_a_size = [&] {
    return Error(
        fmt::format("{}: '{}' is not a size (use e.g. 512MiB, 1.5GB or bytes)", flag, text));
  };
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  // The number: digits, optionally '.' and more digits, at least one digit in all.
  // Parsed by hand so that "1e3", "0x10", "-5" and "inf" are refused.
  long double value = 0;
  int num_digits = 0;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i, ++num_digits)
    value = value * 10 + (text[i] - '0');
  if (i < text.size() && text[i] == '.') {
    long double scale = 0.1L;
    for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]));
         ++i, ++num_digits) {
      value += scale * (text[i] - '0');
      scale /= 10;
    }
  }
  if (num_digits == 0) throw not_a_size();
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  size_t unit_end = text.size();
  while (unit_end > i && std::isspace(static_cast<unsigned char>(text[unit_end - 1]))) --unit_end;
  const long double multiplier = unit_bytes(text.substr(i, unit_end - i));
  if (multiplier == 0) throw not_a_size();

  const long double bytes = std::round(value * multiplier);
  // 2^63 is exactly representable, so this comparison has no rounding trouble.
  if (bytes >= 0x1p63L)
    fail("{}: '{}' is too large (at most {} bytes)", flag, text,
         std::numeric_limits<int64_t>::max());
  return static_cast<int64_t>(bytes);
}

std::string format_bytes(int64_t bytes) {
  static const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  const char* sign = bytes < 0 ? "-" : "";
  // Through double so that INT64_MIN has a magnitude too.
  double magnitude = std::fabs(static_cast<double>(bytes));
  if (magnitude < 1024) return fmt::format("{}{} B", sign, static_cast<int64_t>(magnitude));
  // Round before choosing the unit, so 1023.96 KiB prints as "1.0 MiB", not "1024.0 KiB".
  magnitude /= 1024;
  int unit = 0;
  while (unit + 1 < 6 && std::round(magnitude * 10) / 10 >= 1024) {
    magnitude /= 1024;
    ++unit;
  }
  return fmt::format("{}{:.1f} {}", sign, magnitude, kUnits[unit]);
}

}  // namespace edgegnn::runtime
