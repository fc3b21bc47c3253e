#include "graph/structure_only.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <tuple>

#include "core/error.h"
#include "core/parallel.h"
#include "core/random.h"
#include "graph/file_bytes.h"
#include "graph/npy.h"
#include "graph/synthetic.h"
#include "runtime/size.h"

namespace edgegnn::graph {
namespace {

namespace fs = std::filesystem;

// Generated labels: seed nodes per class, and rounds of majority vote after
// the classes have spread. More seeds make classes of several regions each and
// sizes more even; each round of voting smooths the borders between regions.
constexpr int64_t kSeedsPerClass = 4;
constexpr int kSmoothingRounds = 3;
// The split of the labelled nodes, in percent.
constexpr int64_t kTrainPercent = 60;
constexpr int64_t kValPercent = 20;
// Fewer nodes than this are voted on in one thread: a small component's
// breadth-first rounds would spend more on starting threads than on votes.
constexpr int64_t kMinParallelNodes = 4096;
// Bytes a zlib read asks for, and the size of zlib's own buffer.
constexpr int64_t kReadBytes = int64_t{1} << 20;

// Key streams of the generated node data, so that no two kinds of draw share
// random numbers.
enum Stream : uint64_t { kStreamSeedNodes = 1, kStreamTieBreak, kStreamLoneClass, kStreamSplit };

// "120,000,000".
std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// "1 edge read so far", "2 edges read so far": `what` starts with a plural
// noun.
std::string counted(int64_t n, std::string_view what) {
  const size_t noun_end = std::min(what.find(' '), what.size());
  const std::string_view noun = what.substr(0, noun_end), rest = what.substr(noun_end);
  if (n == 1 && noun.ends_with("ies"))
    return fmt::format("1 {}y{}", noun.substr(0, noun.size() - 3), rest);
  if (n == 1 && noun.ends_with('s'))
    return fmt::format("1 {}{}", noun.substr(0, noun.size() - 1), rest);
  return fmt::format("{} {}", with_commas(n), what);
}

// MemAvailable in /proc/meminfo: what the kernel says can be allocated without
// swapping. Where it cannot be read, the free physical pages.
int64_t available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  constexpr std::string_view kKey = "MemAvailable:";
  for (std::string line; std::getline(meminfo, line);)
    if (line.starts_with(kKey)) return std::stoll(line.substr(kKey.size())) * 1024;  // in kB
  return static_cast<int64_t>(sysconf(_SC_AVPHYS_PAGES)) * sysconf(_SC_PAGESIZE);
}

// NAME of DIR/NAME.EXT or DIR/NAME.EXT.gz.
std::string graph_name(const fs::path& path) {
  fs::path file = path.filename();
  if (file.extension() == ".gz") file = file.stem();
  return file.stem().string();
}

// Node data read from the .npy files beside a graph file; empty where absent.
struct NodeFiles {
  fs::path features_path, labels_path;  // empty when absent
  std::vector<int64_t> features_shape;
  std::vector<float> features;
  std::vector<int64_t> labels_shape;
  std::vector<int64_t> labels;
};

NodeFiles read_node_files(const fs::path& graph_path) {
  NodeFiles files;
  const fs::path stem = graph_path.parent_path() / graph_name(graph_path);
  std::error_code ec;
  if (fs::exists(stem.string() + ".features.npy", ec)) {
    files.features_path = stem.string() + ".features.npy";
    const std::string source = files.features_path.string();
    NpyArray array = parse_npy(read_file_bytes(files.features_path), source);
    check(array.shape.size() == 2, "{}: shape {}, expected (num_nodes, F)", source,
          npy_shape_string(array.shape));
    files.features_shape = array.shape;
    files.features = as_float32(array, source);
  }
  if (fs::exists(stem.string() + ".labels.npy", ec)) {
    files.labels_path = stem.string() + ".labels.npy";
    const std::string source = files.labels_path.string();
    NpyArray array = parse_npy(read_file_bytes(files.labels_path), source);
    check(array.shape.size() == 1, "{}: shape {}, expected (num_nodes,)", source,
          npy_shape_string(array.shape));
    files.labels_shape = array.shape;
    files.labels = as_int64(array, source);
  }
  return files;
}

// Labels from a file, checked against the graph's node count; sets
// *num_classes to the largest + 1.
std::vector<int32_t> take_labels(const NodeFiles& files, int64_t num_nodes,
                                 const std::string& graph_source, int32_t* num_classes) {
  const std::string source = files.labels_path.string();
  check(files.labels_shape[0] == num_nodes, "{}: shape {}, expected ({},): {} has {} nodes", source,
        npy_shape_string(files.labels_shape), num_nodes, graph_source, num_nodes);
  std::vector<int32_t> labels(num_nodes);
  int32_t max_label = -1;
  for (int64_t v = 0; v < num_nodes; ++v) {
    check(files.labels[v] >= -1 && files.labels[v] < INT32_MAX,
          "{}: label {} of node {} out of range [-1, {})", source, files.labels[v], v, INT32_MAX);
    labels[v] = static_cast<int32_t>(files.labels[v]);
    max_label = std::max(max_label, labels[v]);
  }
  *num_classes = max_label + 1;
  return labels;
}

// Neighbours of v in the (symmetric) CSR.
struct Csr {
  const std::vector<int64_t>& rowptr;
  const std::vector<int32_t>& col;
  int64_t num_nodes() const { return static_cast<int64_t>(rowptr.size()) - 1; }
  int64_t degree(int64_t v) const { return rowptr[v + 1] - rowptr[v]; }
};

// The most frequent class among v's labelled neighbours, counting v's own
// class `own` too when it is >= 0. A tie goes to `own`, else to the class
// with the larger keyed hash: no class is favoured. `counts` is scratch of
// num_classes zeros, left zero.
int32_t majority_class(const Csr& g, int64_t v, int32_t own, const std::vector<int32_t>& labels,
                       uint64_t seed, std::vector<int64_t>& counts) {
  if (own >= 0) ++counts[own];
  for (int64_t k = g.rowptr[v]; k < g.rowptr[v + 1]; ++k)
    if (labels[g.col[k]] >= 0) ++counts[labels[g.col[k]]];
  const uint64_t node_key = KeyedRandom(seed, kStreamTieBreak, v).next();
  auto tie_rank = [&](int32_t c) { return mix64(node_key ^ static_cast<uint64_t>(c)); };
  int32_t best = own;
  for (int32_t c = 0; c < static_cast<int32_t>(counts.size()); ++c) {
    if (counts[c] == 0 || c == own) continue;
    if (best < 0 || counts[c] > counts[best] ||
        (counts[c] == counts[best] && best != own && tie_rank(c) > tie_rank(best)))
      best = c;
  }
  std::fill(counts.begin(), counts.end(), 0);
  return best;
}

// Spreads labels breadth-first from `frontier` over the unlabelled nodes: in
// each round, every unlabelled neighbour of the last round's nodes takes the
// majority class of its labelled neighbours. Rounds read only earlier rounds'
// labels, so the result does not depend on the threads.
void spread_labels(const Csr& g, std::vector<int32_t> frontier, int32_t num_classes, uint64_t seed,
                   int num_threads, std::vector<int32_t>& labels, std::vector<uint8_t>& reached) {
  std::vector<int32_t> next, chosen;
  while (!frontier.empty()) {
    next.clear();
    for (int32_t u : frontier)
      for (int64_t k = g.rowptr[u]; k < g.rowptr[u + 1]; ++k)
        if (!reached[g.col[k]]) {
          reached[g.col[k]] = 1;
          next.push_back(g.col[k]);
        }
    chosen.resize(next.size());
    const int64_t size = static_cast<int64_t>(next.size());
    parallel_for(size, size < kMinParallelNodes ? 1 : num_threads,
                 [&](int64_t begin, int64_t end, int) {
                   std::vector<int64_t> counts(num_classes, 0);
                   for (int64_t i = begin; i < end; ++i)
                     chosen[i] = majority_class(g, next[i], /*own=*/-1, labels, seed, counts);
                 });
    for (size_t i = 0; i < next.size(); ++i) labels[next[i]] = chosen[i];
    frontier.swap(next);
  }
}

// The generated labels (see the header).
std::vector<int32_t> generate_labels(const Csr& g, int32_t num_classes, uint64_t seed,
                                     int num_threads) {
  const int64_t n = g.num_nodes();
  std::vector<int32_t> labels(n, -1);
  std::vector<uint8_t> reached(n, 0);
  std::vector<int32_t> seeds;
  {
    std::vector<int32_t> order = random_permutation(n, KeyedRandom(seed, kStreamSeedNodes));
    for (int64_t i = 0; i < n && static_cast<int64_t>(seeds.size()) < num_classes * kSeedsPerClass;
         ++i) {
      const int32_t v = order[i];
      if (g.degree(v) == 0) continue;
      labels[v] = static_cast<int32_t>(seeds.size() % num_classes);
      reached[v] = 1;
      seeds.push_back(v);
    }
  }
  spread_labels(g, std::move(seeds), num_classes, seed, num_threads, labels, reached);
  // Components no seed reached, and isolated nodes: one random class each,
  // spread over the component from its first node.
  for (int64_t v = 0; v < n; ++v) {
    if (reached[v]) continue;
    reached[v] = 1;
    labels[v] = static_cast<int32_t>(KeyedRandom(seed, kStreamLoneClass, v).below(num_classes));
    if (g.degree(v) > 0)
      spread_labels(g, {static_cast<int32_t>(v)}, num_classes, seed, num_threads, labels, reached);
  }
  std::vector<int32_t> voted(n);
  for (int round = 0; round < kSmoothingRounds; ++round) {
    parallel_for(n, num_threads, [&](int64_t begin, int64_t end, int) {
      std::vector<int64_t> counts(num_classes, 0);
      for (int64_t v = begin; v < end; ++v)
        voted[v] = majority_class(g, v, labels[v], labels, seed, counts);
    });
    labels.swap(voted);
  }
  return labels;
}

// A seeded permutation of the labelled nodes: the first 60% train, the next
// 20% validation, the rest test.
void split_labelled(const std::vector<int32_t>& labels, uint64_t seed, GraphArrays& arrays) {
  const int64_t n = static_cast<int64_t>(labels.size());
  int64_t num_labelled = 0;
  for (int32_t label : labels) num_labelled += label >= 0;
  const int64_t num_train = num_labelled * kTrainPercent / 100;
  const int64_t num_val = num_labelled * kValPercent / 100;
  arrays.train_mask.assign(n, 0);
  arrays.val_mask.assign(n, 0);
  arrays.test_mask.assign(n, 0);
  int64_t k = 0;
  for (int32_t v : random_permutation(n, KeyedRandom(seed, kStreamSplit))) {
    if (labels[v] < 0) continue;
    auto& mask = k < num_train             ? arrays.train_mask
                 : k < num_train + num_val ? arrays.val_mask
                                           : arrays.test_mask;
    mask[v] = 1;
    ++k;
  }
}

// Throws Error naming the first edge (by vertex) listed at one end only.
void check_symmetric(const Csr& g, const std::string& source, int num_threads) {
  // Each chunk notes its first one-sided edge; the first chunk's is reported,
  // so the message does not depend on the threads.
  num_threads = static_cast<int>(std::clamp<int64_t>(num_threads, 1, g.num_nodes()));
  std::vector<std::pair<int64_t, int32_t>> one_sided(num_threads, {-1, -1});
  parallel_for(g.num_nodes(), num_threads, [&](int64_t begin, int64_t end, int chunk) {
    for (int64_t v = begin; v < end && one_sided[chunk].first < 0; ++v)
      for (int64_t k = g.rowptr[v]; k < g.rowptr[v + 1]; ++k) {
        const int32_t u = g.col[k];
        const auto first = g.col.begin() + g.rowptr[u], last = g.col.begin() + g.rowptr[u + 1];
        if (!std::binary_search(first, last, static_cast<int32_t>(v))) {
          one_sided[chunk] = {v, u};
          break;
        }
      }
  });
  for (const auto& [v, u] : one_sided)
    // Ids as the file writes them, from 1.
    check(v < 0,
          "{}: vertex {} lists {}, but vertex {} does not list {} (an edge must be listed "
          "at both ends)",
          source, v + 1, u + 1, u + 1, v + 1);
}

}  // namespace

LineReader::LineReader(std::string_view text, std::string source)
    : source_(std::move(source)), pending_(text), at_end_(true) {}

LineReader::LineReader(const fs::path& path) : source_(path.string()) {
  std::error_code ec;
  check(fs::exists(path, ec), "{}: file not found", source_);
  check(fs::is_regular_file(path, ec), "{}: not a regular file", source_);
  file_ = gzopen(source_.c_str(), "rb");
  check(file_ != nullptr, "{}: cannot open: {}", source_, std::strerror(errno));
  gzbuffer(file_, static_cast<unsigned>(kReadBytes));
}

LineReader::~LineReader() {
  if (file_) gzclose(file_);
}

bool LineReader::fill() {
  // Keep what is pending at the front; grow the buffer only for a long line.
  const size_t kept = pending_.size();
  if (buffer_.size() < kept + kReadBytes) {
    check(static_cast<int64_t>(kept) < kMaxLineBytes,
          "{}:{}: line longer than {} MiB (is this a text file?)", source_, line_number_ + 1,
          kMaxLineBytes >> 20);
    std::vector<char> grown(std::max(buffer_.size() * 2, kept + kReadBytes));
    std::copy(pending_.begin(), pending_.end(), grown.begin());
    buffer_.swap(grown);
  } else {
    std::memmove(buffer_.data(), pending_.data(), kept);
  }
  const int got = gzread(file_, buffer_.data() + kept, static_cast<unsigned>(kReadBytes));
  int error = Z_OK;
  std::string_view message = gzerror(file_, &error);
  // A truncated stream reads as an end with Z_BUF_ERROR set.
  if (got < 0 || error != Z_OK) [[unlikely]] {
    check(error != Z_ERRNO, "{}: cannot read: {}", source_, std::strerror(errno));
    check(error != Z_BUF_ERROR, "{}: corrupt gzip data: unexpected end of file (truncated?)",
          source_);
    // zlib's message starts with the path.
    if (message.starts_with(source_ + ": ")) message.remove_prefix(source_.size() + 2);
    fail("{}: corrupt gzip data: {}", source_, message);
  }
  pending_ = std::string_view(buffer_.data(), kept + got);
  return got > 0;
}

bool LineReader::next(std::string_view* line) {
  size_t end;
  while ((end = pending_.find('\n')) == std::string_view::npos) {
    if (at_end_ || !fill()) {
      at_end_ = true;
      if (pending_.empty()) return false;
      end = pending_.size();
      break;
    }
  }
  *line = pending_.substr(0, end);
  pending_.remove_prefix(std::min(end + 1, pending_.size()));
  if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
  ++line_number_;
  return true;
}

std::string_view take_field(std::string_view* rest) {
  const size_t begin = rest->find_first_not_of(" \t");
  if (begin == std::string_view::npos) {
    *rest = {};
    return {};
  }
  const size_t end = std::min(rest->find_first_of(" \t", begin), rest->size());
  std::string_view field = rest->substr(begin, end - begin);
  rest->remove_prefix(end);
  return field;
}

Decimal parse_decimal(std::string_view field, int64_t max, int64_t* value) {
  const bool negative = !field.empty() && field[0] == '-';
  std::string_view digits = negative ? field.substr(1) : field;
  if (digits.empty()) return Decimal::kNotInteger;
  int64_t result = 0;
  bool too_large = false;
  for (char c : digits) {
    if (c < '0' || c > '9') return Decimal::kNotInteger;
    // Past max, keep scanning only to tell a number from other text.
    if (!too_large) {
      result = result * 10 + (c - '0');
      too_large = result > max;
    }
  }
  if (negative) return Decimal::kNegative;
  if (too_large) return Decimal::kTooLarge;
  *value = result;
  return Decimal::kOk;
}

std::string excerpt(std::string_view text) {
  constexpr size_t kMaxChars = 40;
  std::string out;
  for (char c : text.substr(0, kMaxChars)) out += c >= 0x20 && c < 0x7f ? c : '?';
  if (text.size() > kMaxChars) out += "...";
  return out;
}

MemoryBudget::MemoryBudget(int64_t budget_bytes, std::string source, int64_t num_features,
                           bool lists_both_ends)
    : limited_(true),
      given_(budget_bytes != 0),
      limit_bytes_(budget_bytes != 0 ? budget_bytes : available_memory_bytes()),
      source_(std::move(source)),
      num_features_(num_features),
      lists_both_ends_(lists_both_ends) {
  edgegnn::check(budget_bytes >= 0, "{}: negative memory budget {}", source_, budget_bytes);
}

double MemoryBudget::bytes_needed(int64_t num_nodes, int64_t num_entries) const {
  // Per entry: src and dst held while reading, then one or two CSR entries.
  const double entry_bytes = 2 * sizeof(int32_t) + (lists_both_ends_ ? 1 : 2) * sizeof(int32_t);
  // Per node: rowptr and build_in_csr's two temporaries, features, labels and
  // three masks, and the generator's permutation.
  const double node_bytes = 3 * sizeof(int64_t) +
                            static_cast<double>(num_features_) * sizeof(float) + sizeof(int32_t) +
                            3 * sizeof(uint8_t) + sizeof(int32_t);
  return static_cast<double>(num_entries) * entry_bytes +
         static_cast<double>(num_nodes) * node_bytes;
}

void MemoryBudget::fail_over(int64_t num_nodes, int64_t num_entries, const char* what) const {
  // Nodes are named too: with ids used as given, one large id can need more
  // than all the edges.
  const std::string read =
      fmt::format("{}, on {} nodes,", counted(num_entries, what), with_commas(num_nodes));
  const std::string need =
      runtime::format_bytes(static_cast<int64_t>(bytes_needed(num_nodes, num_entries)));
  const std::string limit = runtime::format_bytes(limit_bytes_);
  if (given_) fail("{}: {} need {}, over the memory budget of {}", source_, read, need, limit);
  fail("{}: {} need {}, over the {} this machine has available (MemAvailable)", source_, read, need,
       limit);
}

Graph read_structure_only_graph(const fs::path& path, const LoadOptions& options,
                                const StructureFormat& format) {
  const std::string source = path.string();
  LineReader lines(path);
  NodeFiles files = read_node_files(path);
  const bool features_given = !files.features_path.empty();
  const bool labels_given = !files.labels_path.empty();
  const int64_t num_features = features_given ? files.features_shape[1] : kGeneratedFeatures;
  const MemoryBudget budget(options.memory_budget_bytes, source, num_features,
                            format.lists_both_ends);
  StructureEdges structure = format.parse(lines, budget);
  const int64_t n = structure.num_nodes;
  if (features_given)
    check(files.features_shape[0] == n, "{}: shape {}, expected ({}, F): {} has {} nodes",
          files.features_path.string(), npy_shape_string(files.features_shape), n, source, n);

  GraphArrays arrays;
  arrays.name = graph_name(path);
  std::tie(arrays.rowptr, arrays.col) =
      build_in_csr(n, structure.edges,
                   {/*symmetrize=*/!format.lists_both_ends, /*keep_self_loops=*/false}, source);
  structure.edges = EdgeList();
  check(!arrays.col.empty(), "{}: no edges besides self-loops", source);
  const int num_threads = options.num_threads > 0 ? options.num_threads : available_cores();
  const Csr csr{arrays.rowptr, arrays.col};
  if (format.lists_both_ends) check_symmetric(csr, source, num_threads);

  if (labels_given) {
    arrays.labels = take_labels(files, n, source, &arrays.num_classes);
  } else {
    arrays.num_classes = static_cast<int32_t>(std::min<int64_t>(kGeneratedClasses, n));
    arrays.labels = generate_labels(csr, arrays.num_classes, options.seed, num_threads);
  }
  arrays.num_features = num_features;
  arrays.features = features_given
                        ? std::move(files.features)
                        : class_centroid_features(arrays.labels, arrays.num_classes, num_features,
                                                  options.seed, num_threads);
  split_labelled(arrays.labels, options.seed, arrays);
  return make_graph(std::move(arrays), source);
}

}  // namespace edgegnn::graph
