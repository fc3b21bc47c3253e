// Structure-only graphs: files that hold only edges (edge lists, METIS graph
// files), and what their readers share: text read line by line from a plain or
// gzip-compressed file, a memory budget that stops a read before it outgrows
// the machine, and the step that makes the edges a Graph, with node data from
// .npy files beside the graph file or generated.
//
// The structure is stored undirected: a CSR holding every edge in both
// directions, duplicates and self-loops dropped (build_in_csr).
//
// Node data. For a graph file DIR/NAME.EXT (or DIR/NAME.EXT.gz), when present:
//   DIR/NAME.features.npy  float32 or float64 (integers are converted), shape
//                          (num_nodes, F): row v holds node v's features;
//   DIR/NAME.labels.npy    integers, shape (num_nodes,): node v's class, -1
//                          where unknown; num_classes = the largest + 1.
// What is absent is generated, seeded by LoadOptions::seed and the same
// whatever the thread count:
//   labels    kGeneratedClasses (10) classes, fewer for a graph of fewer
//             nodes, grown from the structure: 4 random non-isolated seed
//             nodes per class spread breadth-first, each node taking the most
//             frequent class among its already labelled neighbours; a component
//             no seed reaches takes one random class, an isolated node too;
//             then 3 rounds of majority vote over each node's neighbours and
//             itself smooth the borders between classes. Neighbours thus
//             mostly share a class (edge homophily ~0.8 on Cora's structure,
//             as with Cora's own labels; 0.35 on a random graph, whose
//             neighbourhoods have nothing to follow), so a GNN learns more than
//             the features alone tell;
//   features  kGeneratedFeatures (64) dimensions: the node's class centroid plus
//             Gaussian noise, as in the synthetic graphs
//             (class_centroid_features in synthetic.h), for the file's labels
//             when there are some.
// The split is generated in any case: a seeded permutation of the labelled
// nodes, the first 60% train, the next 20% validation, the rest test (a share
// that suits graphs of any size, unlike gnn-benchmark's 20 per class).
//
// Functions here are thread-safe; a LineReader is used by one thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "graph/dataset.h"
#include "graph/graph.h"

struct gzFile_s;  // zlib's, so that this header does not need zlib.h

namespace edgegnn::graph {

inline constexpr int32_t kGeneratedClasses = 10;
inline constexpr int64_t kGeneratedFeatures = 64;

// The edges a structure-only file lists, before they become a CSR.
struct StructureEdges {
  int64_t num_nodes = 0;  // the largest id + 1, or the count a header gives
  EdgeList edges;         // 0-based ids, in the order the file lists them
};

// The lines of a text held in memory or of a file, plain or gzip-compressed:
// zlib reads a file that does not start with gzip's magic bytes (1f 8b) as it
// is, so neither a .gz suffix nor its absence decides. A line is what comes
// before a '\n' (a '\r' before it is dropped, so CRLF files read alike), or a
// last piece without one.
class LineReader {
 public:
  // Over `text`, which must outlive the reader; `source` names it in errors.
  LineReader(std::string_view text, std::string source);
  // Over the file at `path`, read in pieces (memory stays O(longest line)).
  // Throws Error if it is missing or cannot be opened.
  explicit LineReader(const std::filesystem::path& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // [out] `line`: the next line, valid until the next call. False at the end.
  // Throws Error on corrupt or truncated gzip data, a read error, or a line
  // longer than kMaxLineBytes (not a text file).
  bool next(std::string_view* line);
  // The number of the line next() returned last, from 1.
  int64_t line_number() const { return line_number_; }
  const std::string& source() const { return source_; }

  // Room for a METIS line of ~8 M neighbours.
  static constexpr int64_t kMaxLineBytes = int64_t{64} << 20;

 private:
  // Reads more of the file after what is pending; false at its end.
  bool fill();

  std::string source_;
  gzFile_s* file_ = nullptr;  // null when reading from memory
  std::vector<char> buffer_;
  std::string_view pending_;  // read but not yet returned
  bool at_end_ = false;
  int64_t line_number_ = 0;
};

// Splits the first field off `rest`; fields are runs of characters other than
// space and tab. Returns "" when no field is left.
std::string_view take_field(std::string_view* rest);

// How a field reads as an integer.
enum class Decimal { kOk, kNotInteger, kNegative, kTooLarge };

// [out] `value`: `field` as a decimal integer of digits only, when in [0, max].
Decimal parse_decimal(std::string_view field, int64_t max, int64_t* value);

// `text` shortened for an error message: at most 40 characters ("..." after a
// cut), bytes other than printable ASCII shown as '?'.
std::string excerpt(std::string_view text);

// Stops a reader once the graph it has read so far would need more memory
// than a budget: the edge entries held while reading, the CSR they become
// (both directions of each edge when the file lists it once), temporaries,
// features (num_nodes x F float32), labels and split masks. Checked as lines
// come, since neither a file's size (gzip) nor a header can be trusted.
class MemoryBudget {
 public:
  // No limit: for in-memory parsing.
  MemoryBudget() = default;
  // `budget_bytes` 0 = MemAvailable from /proc/meminfo. `num_features` is F;
  // `lists_both_ends`: the file lists each edge at both of its ends (METIS),
  // so an entry becomes one CSR entry, not two. Errors name `source`.
  MemoryBudget(int64_t budget_bytes, std::string source, int64_t num_features,
               bool lists_both_ends);

  // What a graph of `num_nodes` nodes with `num_entries` edge entries needs.
  double bytes_needed(int64_t num_nodes, int64_t num_entries) const;
  // Throws Error when that exceeds the budget, e.g. "big.txt.gz: 120,000,000
  // edges read so far, on 3,072,441 nodes, need 2.7 GiB, over the memory
  // budget of 1.0 GiB"; `what` names the entries, a plural noun first
  // ("edges read so far").
  void check(int64_t num_nodes, int64_t num_entries, const char* what) const {
    if (limited_ && bytes_needed(num_nodes, num_entries) > static_cast<double>(limit_bytes_))
        [[unlikely]]
      fail_over(num_nodes, num_entries, what);
  }

 private:
  [[noreturn]] void fail_over(int64_t num_nodes, int64_t num_entries, const char* what) const;

  bool limited_ = false;
  bool given_ = false;  // a budget the caller set, not MemAvailable
  int64_t limit_bytes_ = 0;
  std::string source_;
  int64_t num_features_ = 0;
  bool lists_both_ends_ = false;
};

// What differs between the formats: how the lines become edges.
struct StructureFormat {
  // Reads all of `lines`, checking `budget` as it goes; throws Error naming
  // the line of the first problem, or when there is no edge.
  StructureEdges (*parse)(LineReader& lines, const MemoryBudget& budget);
  // The file lists each edge at both ends (METIS): the CSR takes the entries
  // as they are, and must come out symmetric (an Error names a one-sided
  // edge). Otherwise every edge is stored in both directions.
  bool lists_both_ends;
};

// Reads the graph file at `path` in `format`, takes or generates its node data
// (above) and returns the validated Graph, named NAME. Errors name the file.
Graph read_structure_only_graph(const std::filesystem::path& path, const LoadOptions& options,
                                const StructureFormat& format);

}  // namespace edgegnn::graph
