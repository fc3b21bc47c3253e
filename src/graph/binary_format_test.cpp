#include "graph/binary_format.h"

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support/datasets.h"
#include "test_support/graphs.h"

namespace edgegnn::graph {
namespace {

namespace fs = std::filesystem;

template <typename T>
std::vector<T> values(const Buffer<T>& b) {
  return {b.begin(), b.end()};
}

std::string error_of(const fs::path& dir, OpenOptions options = {}) {
  try {
    open_binary_graph(dir, options);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void overwrite(const fs::path& file, size_t offset, std::string_view bytes) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(BinaryFormat, RoundTripsEveryArrayThroughAMapping) {
  auto dir = test::scratch_dir("graph");
  Graph original = test::path_graph();
  write_binary_graph(original, dir);
  OpenOptions verify;
  verify.verify_checksums = true;
  Graph g = open_binary_graph(dir, verify);
  EXPECT_TRUE(g.col.is_mapped());
  EXPECT_EQ(g.name, "path");
  EXPECT_EQ(g.num_nodes, 3);
  EXPECT_EQ(g.num_features, 2);
  EXPECT_EQ(g.num_classes, 2);
  EXPECT_EQ(values(g.rowptr), values(original.rowptr));
  EXPECT_EQ(values(g.col), values(original.col));
  EXPECT_EQ(values(g.features), values(original.features));
  EXPECT_EQ(values(g.labels), values(original.labels));
  EXPECT_EQ(values(g.train_mask), values(original.train_mask));
  EXPECT_EQ(values(g.val_mask), values(original.val_mask));
  EXPECT_EQ(values(g.test_mask), values(original.test_mask));
  EXPECT_EQ(g.memory_bytes(), original.memory_bytes());
  EXPECT_FALSE(fs::exists(dir / "manifest.json.tmp"));
}

TEST(BinaryFormat, OpensOnlyThePartsAsked) {
  auto dir = test::scratch_dir("graph");
  write_binary_graph(test::path_graph(), dir);
  // A missing file proves the array is never opened.
  fs::remove(dir / "features.f32");
  OpenOptions structure_only;
  structure_only.parts.features = false;
  Graph g = open_binary_graph(dir, structure_only);
  EXPECT_FALSE(g.has_features);
  EXPECT_TRUE(g.features.empty());
  EXPECT_EQ(g.num_features, 2);
  EXPECT_EQ(g.num_edges(), 4);
  EXPECT_NE(error_of(dir).find("features.f32"), std::string::npos);

  fs::remove(dir / "col.i32");
  OpenOptions neither;
  neither.parts = {.structure = false, .features = false};
  Graph counts = open_binary_graph(dir, neither);
  EXPECT_FALSE(counts.has_structure);
  EXPECT_EQ(counts.num_nodes, 3);
  EXPECT_EQ(counts.labels.size(), 3u);
}

TEST(BinaryFormat, MissingDirectoryNamesTheManifest) {
  auto dir = test::scratch_dir("graph") / "nowhere";
  EXPECT_NE(error_of(dir).find("nowhere/manifest.json: cannot open"), std::string::npos);
}

TEST(BinaryFormat, OtherVersionIsRefusedWithBothVersions) {
  auto dir = test::scratch_dir("graph");
  write_binary_graph(test::path_graph(), dir);
  std::ifstream in(dir / "manifest.json");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  text.replace(text.find("\"format_version\": 1"), 19, "\"format_version\": 7");
  std::ofstream(dir / "manifest.json") << text;
  EXPECT_NE(error_of(dir).find("format version 7, this edgegnn reads version 1"),
            std::string::npos);
}

TEST(BinaryFormat, TruncatedArrayFileIsNamed) {
  auto dir = test::scratch_dir("graph");
  write_binary_graph(test::path_graph(), dir);
  fs::resize_file(dir / "features.f32", 8);
  EXPECT_NE(error_of(dir).find("features.f32: file has 8 bytes, manifest.json says 24"),
            std::string::npos);
}

TEST(BinaryFormat, CorruptBytesFailTheChecksumWhenVerifying) {
  auto dir = test::scratch_dir("graph");
  write_binary_graph(test::path_graph(), dir);
  overwrite(dir / "features.f32", 0, "\x01\x02");
  EXPECT_EQ(error_of(dir), "");
  OpenOptions verify;
  verify.verify_checksums = true;
  EXPECT_NE(error_of(dir, verify).find("features.f32: checksum mismatch"),
            std::string::npos);
}

TEST(BinaryFormat, EdgeSourceOutOfRangeIsRefusedEvenWithoutChecksums) {
  auto dir = test::scratch_dir("graph");
  write_binary_graph(test::path_graph(), dir);
  overwrite(dir / "col.i32", 0, std::string("\x09\x00\x00\x00", 4));
  EXPECT_NE(error_of(dir).find("edge source 9 out of range [0, 3)"), std::string::npos);
}

TEST(BinaryFormat, InvalidJsonIsNamed) {
  auto dir = test::scratch_dir("graph");
  write_binary_graph(test::path_graph(), dir);
  std::ofstream(dir / "manifest.json") << "{\"magic\": ";
  EXPECT_NE(error_of(dir).find("manifest.json: not valid JSON"), std::string::npos);
}

// Nodes {0, 2} of the path 0 - 1 - 2: rows keep their global in-edges.
Graph path_part() {
  Graph p = make_graph({"path", /*num_features=*/2, /*num_classes=*/2, /*rowptr=*/{0, 1, 2},
                        /*col=*/{1, 1}, /*features=*/{1, 2, 5, 6}, /*labels=*/{0, -1},
                        /*train_mask=*/{1, 0}, /*val_mask=*/{0, 0}, /*test_mask=*/{0, 1}},
                       "part");
  p.num_source_nodes = 3;
  p.global_ids = Buffer(std::vector<int32_t>{0, 2});
  p.validate("part");
  return p;
}

TEST(BinaryFormat, RoundTripsAPartWithItsGlobalIds) {
  auto dir = test::scratch_dir("part");
  write_binary_graph(path_part(), dir);
  EXPECT_TRUE(fs::exists(dir / "global_ids.i32"));
  OpenOptions verify;
  verify.verify_checksums = true;
  Graph g = open_binary_graph(dir, verify);
  EXPECT_EQ(g.num_nodes, 2);
  EXPECT_EQ(g.num_source_nodes, 3);
  EXPECT_EQ(values(g.global_ids), (std::vector<int32_t>{0, 2}));
  EXPECT_TRUE(g.global_ids.is_mapped());
  EXPECT_EQ(values(g.col), (std::vector<int32_t>{1, 1}));

  // Global ids are held like labels, whatever else is left out.
  OpenOptions counts_only;
  counts_only.parts = {.structure = false, .features = false};
  EXPECT_EQ(values(open_binary_graph(dir, counts_only).global_ids), (std::vector<int32_t>{0, 2}));
}

TEST(BinaryFormat, AWholeGraphHasNoGlobalIdsFile) {
  auto dir = test::scratch_dir("graph");
  write_binary_graph(test::path_graph(), dir);
  EXPECT_FALSE(fs::exists(dir / "global_ids.i32"));
  Graph g = open_binary_graph(dir);
  EXPECT_TRUE(g.global_ids.empty());
  EXPECT_EQ(g.num_sources(), 3);
}

TEST(BinaryFormat, ManifestsWithoutTheSourceCountStillOpen) {
  auto dir = test::scratch_dir("graph");
  write_binary_graph(test::path_graph(), dir);
  std::ifstream in(dir / "manifest.json");
  auto manifest = nlohmann::json::parse(in);
  ASSERT_EQ(manifest.at("num_source_nodes"), 3);
  manifest.erase("num_source_nodes");
  std::ofstream(dir / "manifest.json") << manifest.dump(2);
  Graph g = open_binary_graph(dir);
  EXPECT_EQ(g.num_source_nodes, -1);
  EXPECT_EQ(g.num_sources(), 3);
}

TEST(BinaryFormat, APartWithoutItsGlobalIdsIsRefused) {
  auto dir = test::scratch_dir("part");
  write_binary_graph(path_part(), dir);
  fs::resize_file(dir / "global_ids.i32", 4);
  EXPECT_NE(error_of(dir).find("global_ids.i32: file has 4 bytes, manifest.json says 8"),
            std::string::npos);
  overwrite(dir / "global_ids.i32", 0, std::string("\x02\x00\x00\x00", 4));
  fs::resize_file(dir / "global_ids.i32", 8);  // {2, 0}: not ascending
  EXPECT_NE(error_of(dir).find("global ids not ascending at row 1 (0 after 2)"),
            std::string::npos)
      << error_of(dir);
}

TEST(BinaryFormat, AManifestNamingAFileOutsideItsDirectoryIsRefused) {
  const auto outer = test::scratch_dir("graph");
  const auto dir = outer / "graph";
  write_binary_graph(test::path_graph(), dir);
  // The outside files exist and are the right size: only the name is wrong.
  fs::copy_file(dir / "features.f32", outer / "features.f32");
  std::ifstream in(dir / "manifest.json");
  const auto manifest = nlohmann::json::parse(in);
  for (const std::string& file :
       std::vector<std::string>{"../features.f32", (outer / "features.f32").string(), ".."}) {
    auto edited = manifest;
    edited["arrays"]["features"]["file"] = file;
    std::ofstream(dir / "manifest.json") << edited.dump(2);
    EXPECT_EQ(error_of(dir), (dir / "manifest.json").string() + ": array 'features' names file '" +
                                 file +
                                 "', expected a plain file name in the manifest's directory");
  }
  auto edited = manifest;
  edited["arrays"]["labels"]["file"] = 7;
  std::ofstream(dir / "manifest.json") << edited.dump(2);
  EXPECT_EQ(error_of(dir), (dir / "manifest.json").string() +
                               ": array 'labels' has a 'file' that is not a string");
}

}  // namespace
}  // namespace edgegnn::graph
