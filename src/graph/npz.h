// NumPy .npz archives: a zip file whose members are .npy files, as written by
// numpy.savez (stored) and numpy.savez_compressed (deflated).
//
// NpzReader opens an archive and reads one named array at a time, so a caller
// holds only the arrays it asked for. It owns the open libzip handle; it is
// move-only and not thread-safe (libzip keeps per-archive state), so give each
// thread its own reader. Errors name the file, and the member where there is one
// ("reddit_data.npz/feature.npy: ..."). A member's size is checked against what
// its compressed bytes can possibly hold before anything is allocated, and the
// stream must produce exactly the declared size, so a forged header cannot make
// the reader allocate without bound.
//
// NpzWriter collects named arrays and writes them in one go; the archive
// appears at its path only once complete.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "graph/npy.h"

typedef struct zip zip_t;

namespace edgegnn::graph {

class NpzReader {
 public:
  // Opens `path`; throws Error if it is missing, not a zip archive or corrupt.
  explicit NpzReader(const std::filesystem::path& path);
  NpzReader(NpzReader&&) noexcept = default;
  NpzReader& operator=(NpzReader&&) noexcept = default;

  // Array names in archive order: the members ending in ".npy", suffix removed.
  const std::vector<std::string>& names() const { return names_; }
  bool contains(const std::string& name) const;
  // Reads and parses array `name`; throws Error naming the file and member if
  // it is absent, fails to decompress, or is not a valid .npy.
  NpyArray read(const std::string& name);
  // The path as given, used to name the file in errors.
  const std::string& path() const { return path_; }

 private:
  struct ZipDiscard {
    void operator()(zip_t* zip) const;
  };

  std::string path_;
  uint64_t file_bytes_ = 0;
  std::unique_ptr<zip_t, ZipDiscard> zip_;
  std::vector<std::string> names_;
  std::vector<uint64_t> indices_;  // libzip index of names_[i]
};

enum class NpzCompression : uint8_t {
  kStored,    // like numpy.savez
  kDeflated,  // like numpy.savez_compressed
};

class NpzWriter {
 public:
  explicit NpzWriter(std::filesystem::path path,
                     NpzCompression compression = NpzCompression::kStored);

  // Serialises `array` as member "<name>.npy"; throws Error on a repeated name
  // or an array whose bytes do not match its shape.
  void add(const std::string& name, const NpyArray& array);
  // Writes the archive to a temporary file beside the path and renames it into
  // place, replacing any file there. Throws Error naming the path on failure.
  void finish();

 private:
  std::filesystem::path path_;
  NpzCompression compression_;
  std::vector<std::string> names_;
  std::vector<std::vector<uint8_t>> members_;  // .npy bytes of names_[i]
};

}  // namespace edgegnn::graph
