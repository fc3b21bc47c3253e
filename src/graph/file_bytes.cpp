#include "graph/file_bytes.h"

#include <fstream>

#include "core/error.h"

namespace edgegnn::graph {

std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  check(!ec, "{}: cannot read: {}", path.string(), ec.message());
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes(size);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  check(in.good() && static_cast<uintmax_t>(in.gcount()) == size, "{}: cannot read {} bytes",
        path.string(), size);
  return bytes;
}

}  // namespace edgegnn::graph
