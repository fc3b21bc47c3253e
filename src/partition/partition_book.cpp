#include "partition/partition_book.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "graph/binary_format.h"

namespace edgegnn::partition {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

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

// Offsets from 0 to the node count, never decreasing, one per part and one
// more, and the summary's part sizes.
void validate_book(const PartitionBook& book, const fs::path& path) {
  check(book.num_parts >= 1 && static_cast<int>(book.summary.parts.size()) == book.num_parts,
        "{}: {} parts but a summary of {}", path.string(), book.num_parts,
        book.summary.parts.size());
  const std::vector<int64_t>& o = book.offsets;
  check(o.size() == static_cast<size_t>(book.num_parts) + 1 && o.front() == 0 &&
            o.back() == book.dataset.num_nodes,
        "{}: 'offsets' must be {} ids from 0 to {}", path.string(), book.num_parts + 1,
        book.dataset.num_nodes);
  for (int k = 0; k < book.num_parts; ++k)
    check(o[k + 1] >= o[k] && o[k + 1] - o[k] == book.summary.parts[k].num_nodes,
          "{}: offsets give part {} {} nodes, its summary {}", path.string(), k, o[k + 1] - o[k],
          book.summary.parts[k].num_nodes);
}

}  // namespace

fs::path part_directory(const fs::path& dir, int part) {
  return dir / ("part-" + std::to_string(part));
}

void write_partition_book(const PartitionBook& book, const fs::path& dir) {
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
                   {"offsets", book.offsets},
                   {"summary", summary_json(book.summary)}};
  std::string text = manifest.dump(2) + "\n";
  graph::write_file_atomically(dir / "partition.json", text.data(), text.size());
}

PartitionBook open_partition_book(const fs::path& dir) {
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
  check(version >= kPartitionFormatVersion,
        "partition {} has format version {}, older than this edgegnn's {}: re-run "
        "'edgegnn partition' to write it again",
        dir.string(), version, kPartitionFormatVersion);
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
  check(method == "metis" || method == "random" || method == "fennel", "{}: unknown method '{}'",
        path.string(), method);
  book.method = parse_partition_method(method);
  book.seed = value_of<uint64_t>(manifest, "seed", path);
  check(manifest.contains("summary"), "{}: missing key 'summary'", path.string());
  book.summary = summary_from_json(manifest["summary"], path);
  book.offsets = value_of<std::vector<int64_t>>(manifest, "offsets", path);
  validate_book(book, path);
  return book;
}

}  // namespace edgegnn::partition
