#include "graph/synthetic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "test_support/errors.h"
#include "test_support/graphs.h"

namespace edgegnn::graph {
namespace {

Graph tiny(uint64_t seed, int num_threads = 2) {
  return generate_synthetic(synthetic_preset("tiny"), {seed, num_threads});
}

using test::to_vector;

// Nearest class mean (means over all nodes) on per-node vectors `x` of width
// `dim`: a cheap stand-in for a trained classifier.
double nearest_centroid_accuracy(const Graph& g, const std::vector<double>& x, int64_t dim) {
  std::vector<double> mean(g.num_classes * dim, 0.0);
  std::vector<int64_t> count(g.num_classes, 0);
  for (int64_t v = 0; v < g.num_nodes; ++v) {
    ++count[g.labels[v]];
    for (int64_t f = 0; f < dim; ++f) mean[g.labels[v] * dim + f] += x[v * dim + f];
  }
  for (int32_t c = 0; c < g.num_classes; ++c)
    for (int64_t f = 0; f < dim; ++f) mean[c * dim + f] /= count[c];
  int64_t correct = 0;
  for (int64_t v = 0; v < g.num_nodes; ++v) {
    int32_t best = 0;
    double best_distance = INFINITY;
    for (int32_t c = 0; c < g.num_classes; ++c) {
      double distance = 0;
      for (int64_t f = 0; f < dim; ++f) distance += std::pow(x[v * dim + f] - mean[c * dim + f], 2);
      if (distance < best_distance) {
        best_distance = distance;
        best = c;
      }
    }
    correct += best == g.labels[v];
  }
  return static_cast<double>(correct) / g.num_nodes;
}

TEST(SyntheticPreset, RedditMatchesPygCounts) {
  const auto& reddit = synthetic_preset("reddit");
  EXPECT_EQ(reddit.num_nodes, 232965);
  EXPECT_EQ(reddit.num_directed_edges, 114615892);
  EXPECT_EQ(reddit.num_features, 602);
  EXPECT_EQ(reddit.num_classes, 41);
  EXPECT_EQ(reddit.num_train, 153431);
  EXPECT_EQ(reddit.num_val, 23831);
  EXPECT_EQ(reddit.num_test, 55703);
  // reddit-mini: a tenth of the nodes at a fifth of the degree, split scaled.
  const auto& mini = synthetic_preset("reddit-mini");
  EXPECT_EQ(mini.num_nodes, reddit.num_nodes / 10);
  EXPECT_NEAR(mini.num_directed_edges, reddit.num_directed_edges / 50.0, 1);
  EXPECT_NEAR(mini.num_train, reddit.num_train / 10.0, 1);
  EXPECT_NEAR(mini.num_val, reddit.num_val / 10.0, 1);
  EXPECT_EQ(mini.num_train + mini.num_val + mini.num_test, mini.num_nodes);
}

TEST(SyntheticPreset, ProductsHasOgbnProductsCounts) {
  const SyntheticPreset& products = synthetic_preset("products");
  EXPECT_EQ(products.num_nodes, 2449029);
  EXPECT_EQ(products.num_directed_edges, 2 * 61859140);
  EXPECT_EQ(products.num_features, 100);
  EXPECT_EQ(products.num_classes, 47);
  EXPECT_EQ(products.num_train + products.num_val + products.num_test, products.num_nodes);
}

TEST(SyntheticPreset, ScaledKeepsTheMeanDegreeAndTheSplitShares) {
  const SyntheticPreset& products = synthetic_preset("products");
  SyntheticPreset quarter = scaled_preset(products, 0.25);
  EXPECT_EQ(quarter.name, "products-x0.25");
  EXPECT_EQ(quarter.num_nodes, 612257);
  EXPECT_EQ(quarter.num_directed_edges, 30929570);
  EXPECT_EQ(quarter.num_train, 49154);
  EXPECT_EQ(quarter.num_val, 9831);
  EXPECT_LE(quarter.num_train + quarter.num_val + quarter.num_test, quarter.num_nodes);
  EXPECT_EQ(quarter.num_features, 100);
  EXPECT_EQ(quarter.num_classes, 47);
  EXPECT_EQ(scaled_preset(products, 1).name, "products");
  EXPECT_EQ(test::error_of([&] { scaled_preset(products, 0); }), "--scale: 0 is not in (0, 1]");
  EXPECT_EQ(test::error_of([&] { scaled_preset(products, 1.5); }), "--scale: 1.5 is not in (0, 1]");
  EXPECT_EQ(test::error_of([&] { scaled_preset(synthetic_preset("tiny"), 0.001); }),
            "--scale: 0.001 leaves 0 nodes, fewer than the 4 classes");
}

TEST(SyntheticPreset, UnknownNameListsTheKnownOnes) {
  EXPECT_EQ(synthetic_preset_names(),
            (std::vector<std::string>{"reddit", "reddit-mini", "products", "tiny"}));
  try {
    synthetic_preset("reddit-huge");
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "unknown synthetic preset 'reddit-huge', expected one of: reddit, reddit-mini, "
                 "products, tiny");
  }
}

TEST(GenerateSynthetic, TinyHasThePresetCountsAndEdgesNearTarget) {
  Graph g = tiny(/*seed=*/1);
  EXPECT_EQ(g.name, "synthetic-tiny");
  EXPECT_EQ(g.num_nodes, 300);
  EXPECT_EQ(g.num_features, 16);
  EXPECT_EQ(g.num_classes, 4);
  EXPECT_EQ(count_mask(g.train_mask), 180);
  EXPECT_EQ(count_mask(g.val_mask), 60);
  EXPECT_EQ(count_mask(g.test_mask), 60);
  for (int64_t v = 0; v < g.num_nodes; ++v)
    EXPECT_EQ(g.train_mask[v] + g.val_mask[v] + g.test_mask[v], 1) << "node " << v;
  // 1,500 independent pairs: the count's standard deviation is ~1.3%.
  EXPECT_NEAR(g.num_edges(), 3000, 300);
}

TEST(GenerateSynthetic, CustomPresetHitsItsEdgeTarget) {
  SyntheticPreset preset{"custom",
                         /*num_nodes=*/2000,
                         /*num_directed_edges=*/60000,
                         /*num_features=*/8,
                         /*num_classes=*/10,
                         1000,
                         500,
                         500};
  Graph g = generate_synthetic(preset, {/*seed=*/3, /*num_threads=*/2});
  EXPECT_EQ(g.name, "synthetic-custom");
  EXPECT_NEAR(g.num_edges(), 60000, 3000);
}

TEST(GenerateSynthetic, RejectsASplitLargerThanTheGraph) {
  SyntheticPreset preset{"bad", 10, 20, 2, 2, 8, 2, 1};
  EXPECT_THROW(generate_synthetic(preset), Error);
}

TEST(GenerateSynthetic, SameSeedIsIdenticalWhateverTheThreadCount) {
  Graph one = tiny(/*seed=*/7, /*num_threads=*/1), three = tiny(/*seed=*/7, /*num_threads=*/3);
  EXPECT_EQ(to_vector(one.rowptr), to_vector(three.rowptr));
  EXPECT_EQ(to_vector(one.col), to_vector(three.col));
  EXPECT_EQ(to_vector(one.features), to_vector(three.features));
  EXPECT_EQ(to_vector(one.labels), to_vector(three.labels));
  EXPECT_EQ(to_vector(one.train_mask), to_vector(three.train_mask));
  EXPECT_EQ(to_vector(one.val_mask), to_vector(three.val_mask));
  EXPECT_EQ(to_vector(one.test_mask), to_vector(three.test_mask));
}

TEST(GenerateSynthetic, DifferentSeedsGiveDifferentGraphs) {
  Graph a = tiny(/*seed=*/1), b = tiny(/*seed=*/2);
  EXPECT_NE(to_vector(a.col), to_vector(b.col));
  EXPECT_NE(to_vector(a.features), to_vector(b.features));
  EXPECT_NE(to_vector(a.labels), to_vector(b.labels));
  EXPECT_NE(to_vector(a.train_mask), to_vector(b.train_mask));
}

TEST(GenerateSynthetic, RowsAreSortedWithoutSelfLoopsAndEveryEdgeHasItsReverse) {
  Graph g = tiny(/*seed=*/4);
  for (int64_t v = 0; v < g.num_nodes; ++v) {
    auto row = g.in_neighbors(v);
    EXPECT_TRUE(std::adjacent_find(row.begin(), row.end(), std::greater_equal<>()) == row.end())
        << "row " << v << " not strictly ascending";
    for (int32_t u : row) {
      EXPECT_NE(u, v);
      auto back = g.in_neighbors(u);
      EXPECT_TRUE(std::binary_search(back.begin(), back.end(), static_cast<int32_t>(v)))
          << u << " -> " << v << " has no reverse";
    }
  }
}

TEST(GenerateSynthetic, ClassesAreSkewedAndNonEmpty) {
  Graph g = tiny(/*seed=*/5);
  std::vector<int64_t> size(g.num_classes, 0);
  for (int32_t label : g.labels) ++size[label];
  for (int32_t c = 0; c < g.num_classes; ++c) EXPECT_GT(size[c], 0) << "class " << c;
  EXPECT_GT(*std::max_element(size.begin(), size.end()),
            2 * *std::min_element(size.begin(), size.end()));
}

TEST(GenerateSynthetic, MostEdgesJoinNodesOfTheSameClass) {
  Graph g = tiny(/*seed=*/6);
  int64_t same = 0;
  for (int64_t v = 0; v < g.num_nodes; ++v)
    for (int32_t u : g.in_neighbors(v)) same += g.labels[u] == g.labels[v];
  // Chance (random endpoints) would be the sum of squared class shares, ~0.3.
  EXPECT_GT(static_cast<double>(same) / g.num_edges(), 0.5);
}

TEST(GenerateSynthetic, NeighboursAddWhatOwnFeaturesLack) {
  Graph g = tiny(/*seed=*/8);
  const int64_t n = g.num_nodes, dim = g.num_features;
  // Own features, and own plus the neighbours' mean: SAGEConv's root and
  // neighbour terms with identity weights, the simplest use of the graph.
  std::vector<double> own(n * dim), with_neighbours(n * dim, 0.0);
  for (int64_t v = 0; v < n; ++v) {
    for (int64_t f = 0; f < dim; ++f)
      with_neighbours[v * dim + f] = own[v * dim + f] = g.feature_row(v)[f];
    for (int32_t u : g.in_neighbors(v))
      for (int64_t f = 0; f < dim; ++f)
        with_neighbours[v * dim + f] += g.feature_row(u)[f] / g.in_degree(v);
  }
  double own_accuracy = nearest_centroid_accuracy(g, own, dim);
  double with_neighbours_accuracy = nearest_centroid_accuracy(g, with_neighbours, dim);
  // Own features beat the majority class (~0.43) but do not decide; the
  // neighbourhood adds clearly more (own 0.68-0.83, gain 0.10-0.20 for seeds 0-15).
  EXPECT_GT(own_accuracy, 0.5);
  EXPECT_LT(own_accuracy, 0.9);
  EXPECT_GT(with_neighbours_accuracy, own_accuracy + 0.05);
}

}  // namespace
}  // namespace edgegnn::graph
