"""For programs that an `exec` node runs: its inputs as NumPy arrays, its outputs back.

    import untangle_exec as ux
    x = ux.inputs()["points"]
    ux.progress(0.5, "half way")
    ux.write(score=np.float64(0.9), per_class=np.zeros(10))

Put tools/ on PYTHONPATH, or copy this file beside the script (and list it in `files`).
"""
import os

import h5py
import numpy as np


def inputs():
    """Every input port's tensor, by port name."""
    with h5py.File(os.environ["UNTANGLE_INPUT"], "r") as f:
        return {name: f[name][()] for name in f}


def write(**outputs):
    """Writes every declared output at once (the file is replaced)."""
    with h5py.File(os.environ["UNTANGLE_OUTPUT"], "w") as f:
        for name, value in outputs.items():
            f[name] = np.asarray(value)


def progress(fraction, text=""):
    """Shows in untangle's progress line; any other stdout line goes to the run's log."""
    print(f"progress {fraction} {text}", flush=True)
