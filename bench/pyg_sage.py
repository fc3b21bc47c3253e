"""PyG's GraphSAGE with reddit.py's settings on a graph written by `edgegnn generate`.

    pyg_sage.py GRAPH_DIR THREADS EPOCHS SAMPLER_WORKERS > metrics.json

PyG 2.3 at its fastest form on the CPU: NeighborSampler's bipartite blocks
over a SparseTensor (each layer computes its dst rows only, aggregating with
torch-sparse's CSR matmul), as in PyG's ogbn_products_sage.py; reddit.py's
model, fanouts [25, 10], batch 1024, Adam at 0.01, dropout 0.5. Compute is
timed as edgegnn times it: zero_grad, forward, loss and backward; the Adam
step apart. Evaluation is layer-wise over the whole graph, as reddit.py's
inference. Prints the metrics as JSON, in edgegnn's names where they match.
"""
import json
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch_geometric.loader import NeighborSampler
from torch_geometric.nn import SAGEConv
from torch_sparse import SparseTensor


def load(graph_dir):
    """The arrays of edgegnn's binary graph format (docs/formats.md), mapped."""
    manifest = json.load(open(os.path.join(graph_dir, "manifest.json")))
    n = manifest["num_nodes"]

    def array(name, dtype):
        return np.fromfile(os.path.join(graph_dir, name), dtype=dtype)

    rowptr = torch.from_numpy(array("rowptr.i64", np.int64))
    col = torch.from_numpy(array("col.i32", np.int32).astype(np.int64))
    x = torch.from_numpy(array("features.f32", np.float32).reshape(n, -1))
    y = torch.from_numpy(array("labels.i32", np.int32).astype(np.int64))
    masks = {m: torch.from_numpy(array(f"{m}_mask.u8", np.uint8).astype(bool))
             for m in ("train", "val", "test")}
    # CSR over in-edges: row i lists the sources of i's edges, i.e. adj_t.
    adj_t = SparseTensor(rowptr=rowptr, col=col, sparse_sizes=(n, n), is_sorted=True)
    return x, y, masks, adj_t


class SAGE(torch.nn.Module):
    def __init__(self, in_channels, hidden, out_channels):
        super().__init__()
        self.convs = torch.nn.ModuleList(
            [SAGEConv(in_channels, hidden), SAGEConv(hidden, out_channels)])

    def forward(self, x, adjs):
        for i, (adj_t, _, size) in enumerate(adjs):
            x = self.convs[i]((x, x[:size[1]]), adj_t)
            if i < len(self.convs) - 1:
                x = F.dropout(x.relu_(), p=0.5, training=self.training)
        return x.log_softmax(dim=-1)

    @torch.no_grad()
    def inference(self, x, adj_t):
        for i, conv in enumerate(self.convs):
            x = conv(x, adj_t)
            if i < len(self.convs) - 1:
                x = x.relu_()
        return x


def main():
    graph_dir, threads, epochs, workers = sys.argv[1], *map(int, sys.argv[2:5])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x, y, masks, adj_t = load(graph_dir)
    train_idx = masks["train"].nonzero().flatten()
    loader = NeighborSampler(adj_t, node_idx=train_idx, sizes=[25, 10], batch_size=1024,
                             shuffle=True, return_e_id=False, num_workers=workers,
                             persistent_workers=workers > 0)
    model = SAGE(x.size(1), 256, int(y.max()) + 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    out = {"epochs": []}
    for epoch in range(epochs):
        model.train()
        stats = dict.fromkeys(["wait_seconds", "gather_seconds", "compute_seconds",
                               "optimizer_seconds"], 0.0)
        steps, loss_sum, count = 0, 0.0, 0
        start = time.perf_counter()
        mark = start
        for batch_size, n_id, adjs in loader:
            now = time.perf_counter()
            stats["wait_seconds"] += now - mark
            xb, yb = x[n_id], y[n_id[:batch_size]]
            mark = time.perf_counter()
            stats["gather_seconds"] += mark - now
            optimizer.zero_grad()
            loss = F.nll_loss(model(xb, adjs), yb)
            loss.backward()
            now = time.perf_counter()
            stats["compute_seconds"] += now - mark
            optimizer.step()
            mark = time.perf_counter()
            stats["optimizer_seconds"] += mark - now
            steps += 1
            loss_sum += float(loss) * batch_size
            count += batch_size
        train_seconds = time.perf_counter() - start
        start = time.perf_counter()
        model.eval()
        pred = model.inference(x, adj_t).argmax(dim=-1)
        eval_seconds = time.perf_counter() - start
        acc = {m: float((pred[masks[m]] == y[masks[m]]).float().mean()) for m in ("val", "test")}
        out["epochs"].append({"epoch": epoch + 1, "steps": steps, "loss": loss_sum / count,
                              "train_seconds": train_seconds, "eval_seconds": eval_seconds,
                              "val_acc": acc["val"], "test_acc": acc["test"], **stats})
        print(f"pyg: epoch {epoch + 1}: {train_seconds:.1f} s training, "
              f"{stats['compute_seconds'] / steps:.3f} s compute a batch, "
              f"test acc {acc['test']:.4f}", file=sys.stderr)
    out["last_test_acc"] = out["epochs"][-1]["test_acc"]
    out["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out["versions"] = {"torch": torch.__version__,
                       "torch_geometric": __import__("torch_geometric").__version__,
                       "torch_sparse": __import__("torch_sparse").__version__}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
