# The pinned-output graph's exec node: exact operations only (counts, copies), so its outputs
# are the same bytes with any NumPy.
import os
import sys

import h5py
import numpy as np

with h5py.File(os.environ["UNTANGLE_INPUT"], "r") as f:
    points = f["points"][()]
    labels = f["labels"][()]
k = int(sys.argv[sys.argv.index("--k") + 1])
print(f"{len(points)} points, first {k}")
with h5py.File(os.environ["UNTANGLE_OUTPUT"], "w") as f:
    f["count"] = np.int64(len(points))
    f["per_class"] = np.bincount(labels.astype(np.int64))
    f["first"] = points[:k]
