// Sizes on the command line: parse_size reads "512MiB", "1.5GB" or plain bytes
// for flags such as --memory-budget, and format_bytes writes sizes back for
// messages ("1.5 GiB").
//
// Decimal units are powers of 1000 (KB, MB, GB, TB) and binary units powers of
// 1024 (KiB, MiB, GiB, TiB), as on disk labels and in `free -h` respectively.
// Units are case-insensitive and may follow the number after a space. A bare
// "M" or "G" is refused rather than guessed: docker reads it as MiB, dd as MiB,
// and a disk vendor as MB, and a budget should not be off by 5%.
#pragma once

#include <cstdint>
#include <string>

namespace edgegnn::runtime {

// `text` is a non-negative number with an optional fraction and unit: "512MiB",
// "1GiB", "1.5GB", "300MB", "2048KiB", "1000000", "100B". Fractions round to the
// nearest byte. Throws Error naming `flag` and `text` when it is not a size or
// does not fit in int64_t, e.g.
//   "--memory-budget: '12XB' is not a size (use e.g. 512MiB, 1.5GB or bytes)".
int64_t parse_size(const std::string& text, const std::string& flag);

// Human-readable binary size with one decimal: "512 B", "1.0 KiB", "1.5 GiB".
std::string format_bytes(int64_t bytes);

}  // namespace edgegnn::runtime
