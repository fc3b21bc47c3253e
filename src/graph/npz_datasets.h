// Readers for graphs stored as NumPy .npz archives.
//
// Reddit (PyG's layout, directory `dir`):
//   reddit_data.npz   feature [N x F] float32, label [N] int, node_types [N] with
//                     1/2/3 = train/val/test
//   reddit_graph.npz  scipy.sparse.save_npz of the adjacency in COO: row, col,
//                     shape (format 'coo'); edges are read as row -> col and
//                     symmetrised, as PyG does with to_undirected.
//
// gnn-benchmark (Shchur et al.; one file):
//   adj_data, adj_indices, adj_indptr, adj_shape    CSR adjacency
//   attr_data, attr_indices, attr_indptr, attr_shape  CSR features, or attr_matrix
//   labels                                            [N] int
//   With no split given: a stratified split seeded by `seed`, 20 per class train,
//   30 per class val, the rest test (classes too small for that are skipped for
//   train/val, as in the paper's code).
#pragma once

#include <cstdint>
#include <filesystem>

#include "graph/graph.h"

namespace edgegnn::graph {

Graph read_reddit_npz(const std::filesystem::path& dir);
Graph read_gnn_benchmark_npz(const std::filesystem::path& file, uint64_t seed);

}  // namespace edgegnn::graph
