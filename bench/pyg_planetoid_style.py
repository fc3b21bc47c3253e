"""PyG's examples/gat.py and gcn.py models, full batch, on one gnn-benchmark
graph with a fixed split, for bench/run-gat: the same graph, split and
settings edgegnn trains with.

    pyg_planetoid_style.py split NPZ SEED OUT.npz
        writes NPZ with Shchur et al.'s split (20 / 30 per class, classes
        under 50 nodes left out) drawn by numpy with SEED, as train_mask,
        val_mask and test_mask beside the graph's arrays.
    pyg_planetoid_style.py train NPZ gat|gcn SEED THREADS > metrics.json
        trains 200 epochs with edgegnn's --model defaults (gat.py: 8 heads of
        8, dropout 0.6 on input, hidden and attention, Adam 0.005, decay 5e-4;
        gcn.py: 16 hidden, dropout 0.5, Adam 0.01, decay 5e-4 on layer 1),
        rows scaled to sum 1, evaluating every epoch; prints the test
        accuracy at the best validation epoch, as edgegnn's test_acc.
"""
import json
import sys
import time

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch_geometric.nn import GATConv, GCNConv
from torch_geometric.utils import to_undirected


def split(npz, seed, out):
    data = dict(np.load(npz, allow_pickle=True))
    labels = data["labels"]
    n = labels.shape[0]
    rng = np.random.default_rng(seed)
    masks = {m: np.zeros(n, dtype=np.uint8) for m in ("train_mask", "val_mask", "test_mask")}
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if members.size < 50:
            continue
        members = rng.permutation(members)
        masks["train_mask"][members[:20]] = 1
        masks["val_mask"][members[20:50]] = 1
        masks["test_mask"][members[50:]] = 1
    data.update(masks)
    np.savez(out, **data)


def load(npz):
    d = np.load(npz, allow_pickle=True)
    adj = sp.csr_matrix((d["adj_data"], d["adj_indices"], d["adj_indptr"]), shape=d["adj_shape"])
    if "attr_matrix" in d:
        x = np.asarray(d["attr_matrix"], dtype=np.float32)
    else:
        x = sp.csr_matrix((d["attr_data"], d["attr_indices"], d["attr_indptr"]),
                          shape=d["attr_shape"]).toarray().astype(np.float32)
    coo = adj.tocoo()
    edge_index = torch.tensor(np.vstack([coo.row, coo.col]), dtype=torch.long)
    edge_index = to_undirected(edge_index, num_nodes=adj.shape[0])
    x = torch.from_numpy(x)
    x = x - x.min()
    x = x / x.sum(1, keepdim=True).clamp(min=1)  # NormalizeFeatures
    y = torch.from_numpy(d["labels"].astype(np.int64))
    masks = [torch.from_numpy(d[m].astype(bool)) for m in ("train_mask", "val_mask", "test_mask")]
    return x, y, edge_index, masks


class GAT(torch.nn.Module):  # examples/gat.py
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv1 = GATConv(in_channels, 8, heads=8, dropout=0.6)
        self.conv2 = GATConv(64, out_channels, heads=1, concat=False, dropout=0.6)

    def forward(self, x, edge_index):
        x = F.dropout(x, p=0.6, training=self.training)
        x = F.elu(self.conv1(x, edge_index))
        x = F.dropout(x, p=0.6, training=self.training)
        return self.conv2(x, edge_index)


class GCN(torch.nn.Module):  # examples/gcn.py
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv1 = GCNConv(in_channels, 16, cached=True)
        self.conv2 = GCNConv(16, out_channels, cached=True)

    def forward(self, x, edge_index):
        x = F.dropout(x, p=0.5, training=self.training)
        x = self.conv1(x, edge_index).relu()
        x = F.dropout(x, p=0.5, training=self.training)
        return self.conv2(x, edge_index)


def train(npz, kind, seed, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    x, y, edge_index, (train_mask, val_mask, test_mask) = load(npz)
    classes = int(y.max()) + 1
    if kind == "gat":
        model = GAT(x.size(1), classes)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.005, weight_decay=5e-4)
    else:
        model = GCN(x.size(1), classes)
        optimizer = torch.optim.Adam([dict(params=model.conv1.parameters(), weight_decay=5e-4),
                                      dict(params=model.conv2.parameters(), weight_decay=0)],
                                     lr=0.01)
    best_val = test_at_best = -1.0
    start = time.time()
    for _ in range(200):
        model.train()
        optimizer.zero_grad()
        out = model(x, edge_index)
        F.cross_entropy(out[train_mask], y[train_mask]).backward()
        optimizer.step()
        model.eval()
        with torch.no_grad():
            pred = model(x, edge_index).argmax(-1)
        val = float((pred[val_mask] == y[val_mask]).float().mean())
        test = float((pred[test_mask] == y[test_mask]).float().mean())
        if val > best_val:
            best_val, test_at_best = val, test
    print(json.dumps({"test_acc": test_at_best, "val_acc": best_val,
                      "seconds_total": time.time() - start}))


if __name__ == "__main__":
    if sys.argv[1] == "split":
        split(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        train(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
