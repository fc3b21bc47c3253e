#include "graph/binary_format.h"

#include <bit>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace edgegnn::graph {
namespace {

// Raw arrays are written in host order; every board we target is little-endian.
static_assert(std::endian::native == std::endian::little, "binary format assumes little-endian");

namespace fs = std::filesystem;
using nlohmann::json;

struct ArraySpec {
  const char* name;
  const char* file;
  const char* dtype;
};

// The order here is the order in the manifest; new arrays go at the end.
constexpr ArraySpec kArrays[] = {
    {"rowptr", "rowptr.i64", "int64"},         {"col", "col.i32", "int32"},
    {"features", "features.f32", "float32"},   {"labels", "labels.i32", "int32"},
    {"train_mask", "train_mask.u8", "uint8"},  {"val_mask", "val_mask.u8", "uint8"},
    {"test_mask", "test_mask.u8", "uint8"},    {"global_ids", "global_ids.i32", "int32"},
};

template <typename Fn>
void for_each_array(const Graph& g, Fn&& fn) {
  fn(kArrays[0], g.rowptr.data(), g.rowptr.memory_bytes());
  fn(kArrays[1], g.col.data(), g.col.memory_bytes());
  fn(kArrays[2], g.features.data(), g.features.memory_bytes());
  fn(kArrays[3], g.labels.data(), g.labels.memory_bytes());
  fn(kArrays[4], g.train_mask.data(), g.train_mask.memory_bytes());
  fn(kArrays[5], g.val_mask.data(), g.val_mask.memory_bytes());
  fn(kArrays[6], g.test_mask.data(), g.test_mask.memory_bytes());
  // Only a part has global ids; a whole graph's manifest stays as it was.
  if (!g.global_ids.empty()) fn(kArrays[7], g.global_ids.data(), g.global_ids.memory_bytes());
}

// A read-only private mapping of a whole file, unmapped when the last Buffer
// borrowing it goes away.
struct Mapping {
  void* address = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (address) munmap(address, size);
  }
};

template <typename T>
T manifest_value(const json& manifest, const char* key, const fs::path& path) {
  check(manifest.contains(key), "{}: missing key '{}'", path.string(), key);
  try {
    return manifest.at(key).get<T>();
  } catch (const json::exception&) {
    fail("{}: key '{}' has the wrong type", path.string(), key);
  }
}

}  // namespace

std::string fnv1a64_hex(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < size; ++i) hash = (hash ^ p[i]) * 0x100000001b3ULL;
  return fmt::format("{:016x}", hash);
}

// Readers see the old file or the new one, never half of it.
void write_file_atomically(const fs::path& path, const void* data, size_t size) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    check(out.good(), "{}: cannot open for writing: {}", tmp.string(), std::strerror(errno));
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    out.flush();
    check(out.good(), "{}: write failed: {}", tmp.string(), std::strerror(errno));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  check(!ec, "{}: cannot rename to {}: {}", tmp.string(), path.string(), ec.message());
}

std::string checked_array_file(std::string file, const fs::path& manifest,
                               const std::string& array) {
  check(!file.empty() && file != "." && file != ".." && file.find('/') == std::string::npos,
        "{}: array '{}' names file '{}', expected a plain file name in the manifest's directory",
        manifest.string(), array, file);
  return file;
}

template <typename T>
Buffer<T> map_array(const fs::path& path, size_t expected_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  check(fd >= 0, "{}: cannot open: {}", path.string(), std::strerror(errno));
  struct stat st {};
  int rc = fstat(fd, &st);
  if (rc != 0 || static_cast<size_t>(st.st_size) != expected_bytes) {
    ::close(fd);
    fail("{}: file has {} bytes, manifest.json says {}", path.string(),
         rc == 0 ? st.st_size : -1, expected_bytes);
  }
  if (expected_bytes == 0) {
    ::close(fd);
    return Buffer<T>();
  }
  void* address = mmap(nullptr, expected_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
  int mmap_errno = errno;
  ::close(fd);
  check(address != MAP_FAILED, "{}: mmap failed: {}", path.string(), std::strerror(mmap_errno));
  auto mapping = std::make_shared<Mapping>();
  mapping->address = address;
  mapping->size = expected_bytes;
  return Buffer<T>(mapping, static_cast<const T*>(address), expected_bytes / sizeof(T));
}

template Buffer<int64_t> map_array(const fs::path&, size_t);
template Buffer<int32_t> map_array(const fs::path&, size_t);
template Buffer<float> map_array(const fs::path&, size_t);
template Buffer<uint8_t> map_array(const fs::path&, size_t);

void write_binary_graph(const Graph& graph, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  check(!ec, "{}: cannot create directory: {}", dir.string(), ec.message());
  json arrays = json::object();
  for_each_array(graph, [&](const ArraySpec& spec, const void* data, size_t bytes) {
    write_file_atomically(dir / spec.file, data, bytes);
    arrays[spec.name] = {{"file", spec.file},
                         {"dtype", spec.dtype},
                         {"bytes", bytes},
                         {"fnv1a64", fnv1a64_hex(data, bytes)}};
  });
  json manifest = {{"magic", kFormatMagic},
                   {"format_version", kFormatVersion},
                   {"name", graph.name},
                   {"num_nodes", graph.num_nodes},
                   {"num_edges", graph.num_edges()},
                   {"num_features", graph.num_features},
                   {"num_classes", graph.num_classes},
                   {"num_source_nodes", graph.num_sources()},
                   {"arrays", arrays}};
  std::string text = manifest.dump(2) + "\n";
  write_file_atomically(dir / "manifest.json", text.data(), text.size());
}

Graph open_binary_graph(const fs::path& dir, const OpenOptions& options) {
  const fs::path manifest_path = dir / "manifest.json";
  std::ifstream in(manifest_path);
  check(in.good(), "{}: cannot open (is '{}' an edgegnn graph directory?)",
        manifest_path.string(), dir.string());
  json manifest = json::parse(in, nullptr, /*allow_exceptions=*/false);
  check(!manifest.is_discarded() && manifest.is_object(), "{}: not valid JSON",
        manifest_path.string());
  check(manifest.value("magic", "") == kFormatMagic, "{}: magic is not '{}'",
        manifest_path.string(), kFormatMagic);
  const int version = manifest_value<int>(manifest, "format_version", manifest_path);
  check(version == kFormatVersion, "{}: format version {}, this edgegnn reads version {}",
        manifest_path.string(), version, kFormatVersion);

  Graph g;
  g.name = manifest_value<std::string>(manifest, "name", manifest_path);
  g.num_nodes = manifest_value<int64_t>(manifest, "num_nodes", manifest_path);
  g.num_features = manifest_value<int64_t>(manifest, "num_features", manifest_path);
  g.num_classes = manifest_value<int32_t>(manifest, "num_classes", manifest_path);
  const auto num_edges = manifest_value<int64_t>(manifest, "num_edges", manifest_path);
  if (manifest.contains("num_source_nodes"))
    g.num_source_nodes = manifest_value<int64_t>(manifest, "num_source_nodes", manifest_path);
  check(g.num_nodes >= 0 && num_edges >= 0 && g.num_features >= 0 &&
            g.num_nodes < (int64_t{1} << 31) && g.num_features < (int64_t{1} << 24) &&
            g.num_sources() >= g.num_nodes && g.num_sources() < (int64_t{1} << 31),
        "{}: counts out of range", manifest_path.string());
  check(manifest.contains("arrays") && manifest["arrays"].is_object(),
        "{}: missing 'arrays'", manifest_path.string());
  const json& arrays = manifest["arrays"];

  auto open_array = [&]<typename T>(const ArraySpec& spec, size_t count, Buffer<T>& out) {
    check(arrays.contains(spec.name), "{}: missing array '{}'", manifest_path.string(), spec.name);
    const json& entry = arrays[spec.name];
    check(entry.value("dtype", "") == spec.dtype, "{}: array '{}' has dtype '{}', expected '{}'",
          manifest_path.string(), spec.name, entry.value("dtype", ""), spec.dtype);
    const size_t bytes = count * sizeof(T);
    check(entry.value("bytes", uint64_t{0}) == bytes,
          "{}: array '{}' has {} bytes, counts imply {}", manifest_path.string(), spec.name,
          entry.value("bytes", uint64_t{0}), bytes);
    check(!entry.contains("file") || entry["file"].is_string(),
          "{}: array '{}' has a 'file' that is not a string", manifest_path.string(), spec.name);
    const fs::path file =
        dir / checked_array_file(entry.value("file", spec.file), manifest_path, spec.name);
    out = map_array<T>(file, bytes);
    if (options.verify_checksums)
      check(fnv1a64_hex(out.data(), bytes) == entry.value("fnv1a64", ""),
            "{}: checksum mismatch (file corrupt)", file.string());
  };
  const auto n = static_cast<size_t>(g.num_nodes);
  if (options.parts.structure) {
    open_array(kArrays[0], n + 1, g.rowptr);
    open_array(kArrays[1], static_cast<size_t>(num_edges), g.col);
  }
  if (options.parts.features) open_array(kArrays[2], n * g.num_features, g.features);
  keep_only(g, options.parts);
  open_array(kArrays[3], n, g.labels);
  open_array(kArrays[4], n, g.train_mask);
  open_array(kArrays[5], n, g.val_mask);
  open_array(kArrays[6], n, g.test_mask);
  if (arrays.contains(kArrays[7].name)) open_array(kArrays[7], n, g.global_ids);
  g.validate(dir.string());
  return g;
}

}  // namespace edgegnn::graph
