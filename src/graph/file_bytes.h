// read_file_bytes: a whole file in memory, for the readers that parse bytes
// (Planetoid's pickles, .npy files).
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace edgegnn::graph {

// The bytes of the file at `path`. Throws Error naming it when it cannot be
// sized or read whole.
std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path);

}  // namespace edgegnn::graph
