#include "partition/partition_book.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "graph/binary_format.h"

namespace edgegnn::partition {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct BookArray {
  const char* name;
  const char* file;
};
constexpr BookArray kNodePart = {"node_part", "node_part.i32"};
constexpr BookArray kNodeLocal = {"node_local", "node_local.i32"};

json array_entry(const BookArray& spec, const graph::Buffer<int32_t>& values) {
  return {{"file", spec.file},
          {"dtype", "int32"},
          {"bytes", values.memory_bytes()},
          {"fnv1a64", graph::fnv1a64_hex(values.data(), values.memory_bytes())}};
}

json summary_json(const PartitionSummary& s) {
  json parts = json::array();
  for (size_t k = 0; k < s.parts.size(); ++k) {
    const PartStats& p = s.parts[k];
    parts.push_back({{"directory", part_directory("", static_cast<int>(k)).string()},
                     {"num_nodes", p.num_nodes},
                     {"num_edges", p.num_edges},
                     {"num_remote_edges", p.num_remote_edges},
                     {"num_train", p.num_train},
                     {"num_halo", p.num_halo},
                     {"bytes", p.bytes}});
  }
  return {
      {"num_cut_edges", s.num_cut_edges},
      {"num_undirected_edges", s.num_undirected_edges},
      {"num_cut_in_edges", s.num_cut_in_edges},
      {"balance",
       {{"nodes", s.balance_nodes()}, {"edges", s.balance_edges()}, {"train", s.balance_train()}}},
      {"parts", parts}};
}

// Reads `key` of `object` as T, or fails naming the file and the key.
template <typename T>
T value_of(const json& object, const char* key, const fs::path& path) {
  check(object.is_object() && object.contains(key), "{}: missing key '{}'", path.string(), key);
  try {
    return object.at(key).get<T>();
  } catch (const json::exception&) {
    fail("{}: key '{}' has the wrong type", path.string(), key);
  }
}

PartitionSummary summary_from_json(const json& s, const fs::path& path) {
  PartitionSummary summary;
  summary.num_cut_edges = value_of<int64_t>(s, "num_cut_edges", path);
  summary.num_undirected_edges = value_of<int64_t>(s, "num_undirected_edges", path);
  summary.num_cut_in_edges = value_of<int64_t>(s, "num_cut_in_edges", path);
  check(s.contains("parts") && s["parts"].is_array(), "{}: missing summary 'parts'", path.string());
  for (const json& p : s["parts"]) {
    PartStats& part = summary.parts.emplace_back();
    part.num_nodes = value_of<int64_t>(p, "num_nodes", path);
    part.num_edges = value_of<int64_t>(p, "num_edges", path);
    part.num_remote_edges = value_of<int64_t>(p, "num_remote_edges", path);
    part.num_train = value_of<int64_t>(p, "num_train", path);
    part.num_halo = value_of<int64_t>(p, "num_halo", path);
    part.bytes = value_of<uint64_t>(p, "bytes", path);
  }
  return summary;
}

graph::Buffer<int32_t> open_array(const json& arrays, const BookArray& spec, const fs::path& dir,
                                  int64_t count, bool verify_checksums) {
  const fs::path manifest = dir / "partition.json";
  check(arrays.is_object() && arrays.contains(spec.name), "{}: missing array '{}'",
        manifest.string(), spec.name);
  const json& entry = arrays[spec.name];
  const auto bytes = static_cast<size_t>(count) * sizeof(int32_t);
  check(value_of<std::string>(entry, "dtype", manifest) == "int32" &&
            value_of<uint64_t>(entry, "bytes", manifest) == bytes,
        "{}: array '{}' is not {} int32 values", manifest.string(), spec.name, count);
  const fs::path file =
      dir / graph::checked_array_file(value_of<std::string>(entry, "file", manifest), manifest,
                                      spec.name);
  graph::Buffer<int32_t> values = graph::map_array<int32_t>(file, bytes);
  if (verify_checksums)
    check(graph::fnv1a64_hex(values.data(), bytes) ==
              value_of<std::string>(entry, "fnv1a64", manifest),
          "{}: checksum mismatch (file corrupt)", file.string());
  return values;
}

// Every node in a part that exists, at a row that part has.
void validate_book(const PartitionBook& book, const fs::path& dir) {
  const fs::path manifest = dir / "partition.json";
  check(book.num_parts >= 1 && static_cast<int>(book.summary.parts.size()) == book.num_parts,
        "{}: {} parts but a summary of {}", manifest.string(), book.num_parts,
        book.summary.parts.size());
  for (int64_t v = 0; v < book.dataset.num_nodes; ++v) {
    const int32_t part = book.node_part[v];
    check(part >= 0 && part < book.num_parts, "{}: node {} is in part {}, expected [0, {})",
          (dir / kNodePart.file).string(), v, part, book.num_parts);
    check(book.node_local[v] >= 0 && book.node_local[v] < book.summary.parts[part].num_nodes,
          "{}: node {} is row {} of part {}, which has {} rows", (dir / kNodeLocal.file).string(),
          v, book.node_local[v], part, book.summary.parts[part].num_nodes);
  }
}

}  // namespace

fs::path part_directory(const fs::path& dir, int part) {
  return dir / ("part-" + std::to_string(part));
}

void write_partition_book(const PartitionBook& book, const fs::path& dir) {
  graph::write_file_atomically(dir / kNodePart.file, book.node_part.data(),
                               book.node_part.memory_bytes());
  graph::write_file_atomically(dir / kNodeLocal.file, book.node_local.data(),
                               book.node_local.memory_bytes());
  const DatasetCounts& d = book.dataset;
  json manifest = {{"magic", kPartitionMagic},
                   {"format_version", kPartitionFormatVersion},
                   {"dataset",
                    {{"name", d.name},
                     {"num_nodes", d.num_nodes},
                     {"num_edges", d.num_edges},
                     {"num_features", d.num_features},
                     {"num_classes", d.num_classes}}},
                   {"num_parts", book.num_parts},
                   {"method", partition_method_name(book.method)},
                   {"seed", book.seed},
                   {"arrays",
                    {{kNodePart.name, array_entry(kNodePart, book.node_part)},
                     {kNodeLocal.name, array_entry(kNodeLocal, book.node_local)}}},
                   {"summary", summary_json(book.summary)}};
  std::string text = manifest.dump(2) + "\n";
  graph::write_file_atomically(dir / "partition.json", text.data(), text.size());
}

PartitionBook open_partition_book(const fs::path& dir, bool verify_checksums) {
  const fs::path path = dir / "partition.json";
  std::ifstream in(path);
  check(in.good(),
        "{}: not a partition directory (no partition.json; 'edgegnn partition' makes one)",
        dir.string());
  json manifest = json::parse(in, nullptr, /*allow_exceptions=*/false);
  check(!manifest.is_discarded() && manifest.is_object(), "{}: not valid JSON", path.string());
  check(manifest.value("magic", "") == kPartitionMagic, "{}: magic is not '{}'", path.string(),
        kPartitionMagic);
  const int version = value_of<int>(manifest, "format_version", path);
  check(version == kPartitionFormatVersion,
        "{}: partition format version {}, this edgegnn reads version {}", path.string(), version,
        kPartitionFormatVersion);

  PartitionBook book;
  check(manifest.contains("dataset"), "{}: missing key 'dataset'", path.string());
  const json& d = manifest["dataset"];
  book.dataset = {value_of<std::string>(d, "name", path), value_of<int64_t>(d, "num_nodes", path),
                  value_of<int64_t>(d, "num_edges", path),
                  value_of<int64_t>(d, "num_features", path),
                  value_of<int32_t>(d, "num_classes", path)};
  check(book.dataset.num_nodes >= 0 && book.dataset.num_nodes < (int64_t{1} << 31),
        "{}: node count {} out of range", path.string(), book.dataset.num_nodes);
  book.num_parts = value_of<int>(manifest, "num_parts", path);
  const auto method = value_of<std::string>(manifest, "method", path);
  check(method == "metis" || method == "random", "{}: unknown method '{}'", path.string(), method);
  book.method = parse_partition_method(method);
  book.seed = value_of<uint64_t>(manifest, "seed", path);
  check(manifest.contains("summary"), "{}: missing key 'summary'", path.string());
  book.summary = summary_from_json(manifest["summary"], path);
  const json arrays = manifest.value("arrays", json::object());
  book.node_part = open_array(arrays, kNodePart, dir, book.dataset.num_nodes, verify_checksums);
  book.node_local = open_array(arrays, kNodeLocal, dir, book.dataset.num_nodes, verify_checksums);
  validate_book(book, dir);
  return book;
}

}  // namespace edgegnn::partition
