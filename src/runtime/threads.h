// Intra-op thread count for torch and for edgegnn's own parallel loops.
// Debian's libtorch starts with one intra-op thread, so every command that runs
// tensor code sets the count itself (--threads, default: the cores available).
#pragma once

namespace edgegnn::runtime {

// Sets torch's intra-op thread count to `requested` (0 = the cores available)
// and OpenBLAS's (when the system BLAS is OpenBLAS), and returns the count in
// force. Throws Error for a negative count.
int configure_threads(int requested);

}  // namespace edgegnn::runtime
