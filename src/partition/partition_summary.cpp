#include "partition/partition_summary.h"

#include <fmt/format.h>

#include <algorithm>

namespace edgegnn::partition {
namespace {

template <typename Field>
std::vector<int64_t> per_part(const PartitionSummary& s, Field field) {
  std::vector<int64_t> counts;
  for (const PartStats& p : s.parts) counts.push_back(p.*field);
  return counts;
}

double percent(int64_t part, int64_t whole) { return whole > 0 ? 100.0 * part / whole : 0.0; }

}  // namespace

double balance(const std::vector<int64_t>& counts) {
  int64_t total = 0, most = 0;
  for (int64_t c : counts) {
    total += c;
    most = std::max(most, c);
  }
  if (total == 0) return 1.0;
  return static_cast<double>(most) * static_cast<double>(counts.size()) /
         static_cast<double>(total);
}

double PartitionSummary::balance_nodes() const {
  return balance(per_part(*this, &PartStats::num_nodes));
}
double PartitionSummary::balance_edges() const {
  return balance(per_part(*this, &PartStats::num_edges));
}
double PartitionSummary::balance_train() const {
  return balance(per_part(*this, &PartStats::num_train));
}

std::string format_partition_summary(const PartitionSummary& s) {
  int64_t in_edges = 0;
  for (const PartStats& p : s.parts) in_edges += p.num_edges;
  std::string out;
  out += fmt::format("{:<14}{} of {} undirected edges ({:.1f}%), {} of {} in-edges ({:.1f}%)\n",
                     "edge cut", s.num_cut_edges, s.num_undirected_edges,
                     percent(s.num_cut_edges, s.num_undirected_edges), s.num_cut_in_edges, in_edges,
                     percent(s.num_cut_in_edges, in_edges));
  out += fmt::format("{:<14}nodes {:.3f}, in-edges {:.3f}, train {:.3f} (max part / mean)\n",
                     "balance", s.balance_nodes(), s.balance_edges(), s.balance_train());
  out += fmt::format("{:>5} {:>10} {:>12} {:>12} {:>10} {:>10} {:>10}\n", "part", "nodes",
                     "in-edges", "from others", "train", "halo", "MiB");
  for (size_t k = 0; k < s.parts.size(); ++k) {
    const PartStats& p = s.parts[k];
    out +=
        fmt::format("{:>5} {:>10} {:>12} {:>12} {:>10} {:>10} {:>10.1f}\n", k, p.num_nodes,
                    p.num_edges, p.num_remote_edges, p.num_train, p.num_halo, p.bytes / 1048576.0);
  }
  return out;
}

}  // namespace edgegnn::partition
