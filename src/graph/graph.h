// Graph: the in-memory graph store every strategy reads from.
//
// Structure is a CSR over in-edges: the sources of node v's incoming edges are
// col[rowptr[v] .. rowptr[v+1]), sorted ascending and unique. Undirected inputs
// are stored with both directions. Self-loops are kept only where the source
// format has them; layers add their own. Features are row-major float32
// [num_nodes x num_features]; labels are int32 in [0, num_classes) or -1 where
// unknown; masks are 0/1 bytes per node. With --feature-dtype float16 or int8
// the feature matrix is held compressed instead (PackedFeatures below).
//
// A Graph is either a whole graph or one part of a partitioned graph (see
// src/partition). A part's rows are the nodes it owns, in ascending global id
// order (global_ids); its col still holds global source ids, so its source id
// space (num_sources()) is the whole graph's node count, not its own.
//
// A Graph owns its arrays (possibly as read-only mappings, see Buffer). It is
// move-only; borrowers take a const reference and must not outlive it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "graph/buffer.h"
#include "graph/feature_dtype.h"

namespace edgegnn::graph {

// A feature matrix held compressed in place of Graph::features, row-major like
// it (made by train/compress_features.h): IEEE float16 values, or 8-bit
// unsigned codes q with x ~= offset[f] + scale[f] * q in each column f.
struct PackedFeatures {
  FeatureDtype dtype = FeatureDtype::kFloat32;  // kFloat32: nothing packed
  Buffer<uint8_t> bytes;                        // num_nodes * num_features values
  std::vector<float> scale, offset;             // kInt8: one per column
  bool empty() const { return dtype == FeatureDtype::kFloat32; }
  size_t memory_bytes() const {
    return bytes.memory_bytes() + (scale.size() + offset.size()) * sizeof(float);
  }
};

struct Graph {
  std::string name;
  int64_t num_nodes = 0;
  int64_t num_features = 0;
  int32_t num_classes = 0;

  Buffer<int64_t> rowptr;  // num_nodes + 1 offsets into col
  Buffer<int32_t> col;     // source node of each in-edge
  Buffer<float> features;  // num_nodes * num_features, row-major; empty when packed
  PackedFeatures packed_features;  // the features, when held compressed
  Buffer<int32_t> labels;  // num_nodes, -1 = unknown
  Buffer<uint8_t> train_mask;
  Buffer<uint8_t> val_mask;
  Buffer<uint8_t> test_mask;
  // The id space of col. -1, what every reader of a whole graph leaves, means
  // num_nodes; a part sets the whole graph's node count. Read num_sources().
  int64_t num_source_nodes = -1;
  // A part's global id of each row, ascending; empty for a whole graph.
  // Held like labels, whatever has_structure and has_features say.
  Buffer<int32_t> global_ids;
  // A device may hold only part of a graph (pipeline roles): without
  // structure rowptr and col are empty, without features so are features.
  // Counts, labels and masks are always held.
  bool has_structure = true;
  bool has_features = true;

  Graph() = default;
  Graph(Graph&&) noexcept = default;
  Graph& operator=(Graph&&) noexcept = default;

  int64_t num_edges() const { return static_cast<int64_t>(col.size()); }
  int64_t num_sources() const { return num_source_nodes < 0 ? num_nodes : num_source_nodes; }
  // The id that row v has in col's id space (v itself in a whole graph).
  int64_t global_id(int64_t v) const { return global_ids.empty() ? v : global_ids[v]; }
  int64_t in_degree(int64_t v) const { return rowptr[v + 1] - rowptr[v]; }
  std::span<const int32_t> in_neighbors(int64_t v) const {
    return col.span().subspan(rowptr[v], rowptr[v + 1] - rowptr[v]);
  }
  std::span<const float> feature_row(int64_t v) const {
    return features.span().subspan(v * num_features, num_features);
  }
  size_t memory_bytes() const;
  // What the CSR, and the labels and split masks, of a graph of this size
  // hold: the planner counts a rank's arrays with these.
  static int64_t structure_bytes(int64_t num_nodes, int64_t num_edges) {
    return (num_nodes + 1) * int64_t{sizeof(int64_t)} + num_edges * int64_t{sizeof(int32_t)};
  }
  static int64_t label_bytes(int64_t num_nodes) {
    return num_nodes * int64_t{sizeof(int32_t) + 3 * sizeof(uint8_t)};
  }

  // Checks every invariant above; throws Error naming `source` and the first
  // violation. Readers call it before returning a graph.
  void validate(const std::string& source) const;

 private:
  void validate_structure(const std::string& source) const;
  void validate_global_ids(const std::string& source) const;
};

// Which arrays of a graph a device loads.
struct GraphParts {
  bool structure = true;  // rowptr, col
  bool features = true;
};

// Frees the arrays `parts` leaves out.
void keep_only(Graph& g, const GraphParts& parts);

// A graph's arrays built in memory, before they become a Graph.
struct GraphArrays {
  std::string name;
  int64_t num_features = 0;
  int32_t num_classes = 0;
  std::vector<int64_t> rowptr;
  std::vector<int32_t> col;
  std::vector<float> features;
  std::vector<int32_t> labels;
  std::vector<uint8_t> train_mask, val_mask, test_mask;
};

// Moves `arrays` into a Graph and validates it (errors name `source`).
Graph make_graph(GraphArrays arrays, const std::string& source);

// One directed edge list. Entry i is the edge src[i] -> dst[i].
struct EdgeList {
  std::vector<int32_t> src;
  std::vector<int32_t> dst;
};

struct CsrOptions {
  bool symmetrize = true;        // add the reverse of every edge
  bool keep_self_loops = false;  // drop u -> u edges unless set
};

// Builds the in-edge CSR (rowptr, col) of `edges` over `num_nodes` nodes:
// sorted, duplicates removed. Throws Error naming `source` if an id is out of
// range.
std::pair<std::vector<int64_t>, std::vector<int32_t>> build_in_csr(
    int64_t num_nodes, const EdgeList& edges, const CsrOptions& options,
    const std::string& source);

// PyG's NormalizeFeatures (the GCN paper's preprocessing): every value less
// the matrix's smallest, so none is negative (bag-of-words features are left
// as they are), then each row divided by its sum where that exceeds 1 (a row
// of words sums to 1 after; a row summing to at most 1 stays). Signed
// features (the synthetic graphs') would otherwise be divided by sums near 0.
// Replaces the features with an owned copy.
void row_normalize_features(Graph& g);

// Number of NaN and +-inf values in `values`, counted on up to `num_threads`
// threads (0 = the cores available). A memory-mapped buffer is read once and
// its pages handed back as it goes: counting leaves it no more resident.
int64_t count_non_finite(const Buffer<float>& values, int num_threads);

// Hands the whole pages inside [begin, begin + bytes) back to the system: a
// file mapping reads them back from the file when next used, anonymous memory
// as zeros, so a caller releases only what it will not read again, or reads
// from a file. Pages shared with a neighbouring range stay.
void release_pages(const void* begin, size_t bytes);

// Number of nodes with each mask set.
int64_t count_mask(const Buffer<uint8_t>& mask);

}  // namespace edgegnn::graph
