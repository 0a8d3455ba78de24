#!/usr/bin/python3
"""The PyTorch side of tools/bench/train: the seed graphs' three MNIST models, as a typical user writes them.

usage: train_torch.py MODEL EPOCHS [--seed N] [--threads T] [--data DIR]

MODEL is logreg, mlp or cnn, with the same architecture and hyper-parameters as
graphs/seed-MODEL.yaml: SGD lr 0.5, batch 300, categorical cross-entropy, Glorot-uniform
weights and zero biases (Keras's defaults), sigmoid hidden layers, the 60,000 training
images shuffled every epoch by a DataLoader.  Trains for EPOCHS epochs on T threads
(default 2) and prints one JSON line:

  {"model", "epochs", "threads", "torch", "params", "load_seconds", "epoch_seconds": [...],
   "loss", "accuracy", "peak_rss_mb"}

loss and accuracy are the last epoch's training mean over its batches (as Keras's fit()
reports them); peak_rss_mb is ru_maxrss in MiB (KiB / 1024).  Progress goes to stderr.
Exit status 2 on usage errors, 1 if the data cannot be read.
"""
import argparse, gzip, json, os, resource, sys, time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LR, BATCH = 0.5, 300


def read_idx(path):
    """An IDX file (plain or .gz) as a numpy array; only the types MNIST uses."""
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path += ".gz"
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file")
    dtypes = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if data[2] not in dtypes:
        raise ValueError(f"{path}: unknown IDX type 0x{data[2]:02x}")
    ndim = data[3]
    dims = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, 4))
    arr = np.frombuffer(data, dtypes[data[2]], offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {arr.size} values for dimensions {dims}")
    return arr.reshape(dims)


def build(model):
    if model == "logreg":
        net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    elif model == "mlp":
        net = nn.Sequential(nn.Flatten(), nn.Linear(784, 100), nn.Sigmoid(), nn.Linear(100, 10))
    else:
        net = nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.Sigmoid(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.Sigmoid(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(3136, 100), nn.Sigmoid(), nn.Linear(100, 10))
    for m in net.modules():  # Keras's defaults: glorot_uniform kernels, zero biases
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return net


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", choices=["logreg", "mlp", "cnn"])
    ap.add_argument("epochs", type=int)
    ap.add_argument("--seed", type=int, default=1, help="torch.manual_seed (default 1)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--data", default=os.path.join(ROOT, "data", "mnist"), help="the MNIST IDX files (default data/mnist)")
    args = ap.parse_args()
    if args.epochs < 1 or args.threads < 1:
        ap.error("EPOCHS and --threads must be at least 1")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    t0 = time.perf_counter()
    try:
        x = read_idx(os.path.join(args.data, "train-images-idx3-ubyte"))
        y = read_idx(os.path.join(args.data, "train-labels-idx1-ubyte"))
    except (OSError, ValueError) as e:
        print(f"train_torch: {e} (data/fetch-mnist fetches MNIST)", file=sys.stderr)
        return 1
    if x.ndim != 3 or y.shape != (x.shape[0],):
        print(f"train_torch: images {x.shape} and labels {y.shape} do not match", file=sys.stderr)
        return 1
    xs = torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1)  # N×1×28×28
    ys = torch.from_numpy(y.astype(np.int64))
    loader = DataLoader(TensorDataset(xs, ys), batch_size=BATCH, shuffle=True)
    load_seconds = time.perf_counter() - t0

    net = build(args.model)
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    secs = []
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        net.train()
        loss_sum, correct, seen = 0.0, 0, 0
        for xb, yb in loader:
            opt.zero_grad()
            out = net(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(yb)
            correct += (out.argmax(1) == yb).sum().item()
            seen += len(yb)
        secs.append(time.perf_counter() - t0)
        print(f"  {args.model}: epoch {epoch + 1}/{args.epochs}  loss {loss_sum / seen:.4f}  "
              f"accuracy {correct / seen:.4f}  {secs[-1]:.2f} s", file=sys.stderr, flush=True)

    print(json.dumps({
        "model": args.model, "epochs": args.epochs, "threads": torch.get_num_threads(), "torch": torch.__version__,
        "params": sum(p.numel() for p in net.parameters()), "load_seconds": round(load_seconds, 4),
        "epoch_seconds": [round(s, 4) for s in secs], "loss": loss_sum / seen, "accuracy": correct / seen,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
