"""Trustworthiness of an embedding (Venna and Kaski, as scikit-learn computes it), with NumPy
only: how far the embedding's k nearest neighbours of each point are from being its nearest
neighbours in the original space. 1 means none of them is an intruder.

Run by an exec node: inputs `x` (original points, trailing axes flattened), `points` (the
embedding), `labels`; outputs `score` and `per_class` (the mean of each class's points).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.environ["UNTANGLE_GRAPH_DIR"], "..", "tools"))
import untangle_exec as ux  # noqa: E402


def squared_distances(a):
    sq = np.einsum("ij,ij->i", a, a)
    d = sq[:, None] + sq[None, :] - 2 * a @ a.T
    np.fill_diagonal(d, np.inf)  # a point is not its own neighbour
    return d


def per_point(x, y, k):
    n = len(x)
    # rank[i, j]: j's place (from 1) among i's neighbours in the original space.
    order = np.argsort(squared_distances(x), axis=1, kind="stable")
    rank = np.empty_like(order)
    rank[np.arange(n)[:, None], order] = np.arange(1, n + 1)
    near = np.argsort(squared_distances(y), axis=1, kind="stable")[:, :k]
    penalty = np.maximum(rank[np.arange(n)[:, None], near] - k, 0).sum(axis=1)
    return 1 - 2 * penalty / (k * (2 * n - 3 * k - 1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--k", type=int, default=5)
    k = parser.parse_args().k
    data = ux.inputs()
    x = data["x"].reshape(len(data["x"]), -1).astype(np.float64)
    y = data["points"].astype(np.float64)
    labels = data["labels"].astype(np.int64)
    print(f"trustworthiness of {len(x)} points, k = {k}")
    t = per_point(x, y, k)
    classes = np.unique(labels)
    ux.write(score=np.float64(t.mean()), per_class=np.array([t[labels == c].mean() for c in classes]))


if __name__ == "__main__":
    main()
