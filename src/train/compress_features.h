// compress_features: converts a graph's float32 feature matrix, in place, to
// the packed float16 or int8 form of --feature-dtype (graph::PackedFeatures)
// and frees the float32 matrix, so the saving shows in peak RSS.
//
// The int8 scheme is affine per column: q = round((x - min_f) / scale_f) in
// 0..255 with scale_f = (max_f - min_f) / 255, so x ~= min_f + scale_f q to
// within half a step. Symmetric absmax (x ~= s_f q, q in -127..127) was the
// alternative; affine is chosen because feature columns are mostly one-signed
// (bag-of-words, row-normalised or count features): absmax would leave half the
// codes unused and double the step, where affine spends all 256 on the column's
// range and keeps a column's minimum (often 0) exact. Mean aggregation stays
// exact up to rounding: the mean of the x is min_f + scale_f * mean of the q.
//
// Memory: rows are converted a few MiB at a time, and each converted chunk's
// float32 pages are handed back to the system (madvise) before the next, so
// the peak never holds both whole matrices: a memory-mapped matrix leaves the
// resident set (the file stays), an owned one is freed as it goes.
//
// float16 refuses a value beyond its range (|x| > 65504) with an Error naming
// --feature-dtype. float32 leaves the graph untouched.
#pragma once

#include "comm/communicator.h"
#include "graph/graph.h"

namespace edgegnn::train {

// `comm`: for int8 on ranks that exchange rows as codes (partition parallel),
// the column ranges are combined over all ranks, a collective; null otherwise.
void compress_features(graph::Graph& g, graph::FeatureDtype dtype,
                       comm::Communicator* comm = nullptr);

}  // namespace edgegnn::train
