// Emulated boards for `edgegnn train --emulate BOARD`: what one Raspberry Pi
// class device offers a worker, its RAM and its network link.
//
// Presets (RAM, link rate as the board's Ethernet or WiFi really delivers):
//   pi3b+                                    1 GiB   300 Mbit/s (USB 2 Gigabit)
//   pi4-1g pi4-2g pi4-4g pi4-8g              1/2/4/8 GiB   1 Gbit/s
//   pi5-4g pi5-8g                            4/8 GiB       1 Gbit/s
//   zero2w                                   512 MiB  40 Mbit/s (2.4 GHz WiFi)
//   custom:<RAM>/<RATE>, e.g. custom:768MiB/100mbit: RAM as --memory-budget
//   takes it (size.h), RATE as tc writes it (bit, kbit, mbit, gbit; powers of
//   1000, case-insensitive).
//
// A worker gets the board's RAM less an OS reserve, for the kernel, firmware
// (the GPU's share) and a minimal Raspberry Pi OS: 128 MiB on boards with up to
// 1 GiB, 256 MiB on larger ones. That is its memory cgroup's limit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace edgegnn::runtime {

struct Board {
  std::string name;                  // "pi4-1g", "custom:768MiB/100mbit"
  int64_t ram_bytes = 0;             // what the board has
  int64_t link_bits_per_second = 0;  // each direction of its link

  int64_t os_reserve_bytes() const;
  // The memory cgroup limit a worker on this board runs under.
  int64_t memory_limit_bytes() const { return ram_bytes - os_reserve_bytes(); }
};

// One board: a preset name or custom:<RAM>/<RATE>. Throws Error naming `flag`:
//   "--emulate: 'pi9' is not a board (pi3b+, pi4-1g, ..., or custom:<RAM>/<RATE>)".
Board parse_board(const std::string& text, const std::string& flag);

// A comma list of boards, one for every device, or a single board that every
// device is. Throws Error naming `flag` when the count is neither.
std::vector<Board> parse_boards(const std::string& list, int num_devices, const std::string& flag);

// A link rate as tc writes it, "100mbit", "1gbit", "1.5gbit", in bits per
// second. Throws Error naming `flag` and `text`.
int64_t parse_link_rate(const std::string& text, const std::string& flag);

// Sizes and rates for messages and tc: "1 GiB", "768 MiB", "300mbit", "1gbit".
std::string format_board_bytes(int64_t bytes);
std::string format_link_rate(int64_t bits_per_second);

}  // namespace edgegnn::runtime
