"""Training throughput: the munas trainer against two plain PyTorch loops, same run.

Three reference candidates inside the Fashion-MNIST bounds (PMU 64 KB, size 64 KB, 30 M MACs):
tiny, mid and largest-in-bounds. Each is trained from the same initial weights on the same
real Fashion-MNIST images, batch 128, SGD momentum 0.9, lr 0.01, dropout 0.15, by

* ``DataLoader``: ``TensorDataset`` + ``DataLoader(shuffle=True)``, NCHW, torch's default threads;
* ``plain``: the data set in memory, ``randperm`` index batches, NCHW, torch's default threads
  (the baseline the issue names);
* ``plain 1 thr``: the same loop with one intra-op thread, to show what threading alone does;
* ``munas fp32``: :func:`munas.training.trainer.train_candidate` with ``precision="float32"``;
* ``munas``: the same with its default precision (``auto``: bf16 autocast on a CPU with native
  bf16, which this one has if the header says so).

The munas time runs from the call to the end of its first epoch: it includes building the
network, moving the data and one validation pass (1000 images), so it is conservative. The
plain loops use torch's default BatchNorm momentum (0.1): with the Keras value the network
uses (0.01), 100 steps leave their inference statistics near the (0, 1) start and their test
accuracy near chance, which would say nothing; munas anneals its BatchNorm momentum from
1 to 0.01 over the first 1000 batches instead (about 0.1 at batch 100).

No loop calls ``.item()`` per step. Augmentation is off for all (the plain loops have none) and
the munas trainer's decoupled weight decay is set to 0 so every loop does the same arithmetic.
Each loop runs ``--repeats`` times interleaved with the others; the best throughput counts (the
machine is shared, so the best run is the least disturbed one). Accuracy is the test accuracy
after the last repeat (munas: of its best-validation weights).

    MUNAS_DATA_DIR=/work/shared/data python benchmarks/training.py [--images 12800] [--repeats 2]
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import time

import torch
import torch.nn.functional as F
from rich.console import Console
from rich.table import Table
from torch.utils.data import DataLoader, TensorDataset

from munas.data import load_dataset, search_defaults
from munas.data.dataset import Augmentation
from munas.resources import compute_resources
from munas.space.architecture import parse_architecture
from munas.training.device import training_dtype
from munas.training.model import build_network
from munas.training.presets import with_epochs
from munas.training.trainer import train_candidate

BATCH, LR, DROPOUT = 128, 0.01, 0.15


def _conv(filters: int, stride2: bool = False) -> dict:
    return {"type": "Conv2D", "ker_size": 3, "filters": filters, "2x_stride": stride2, "has_prepool": False,
            "has_bn": True, "has_relu": True}


def _document(layers: list[dict], pool: dict, units: int) -> dict:
    return {"input_shape": [28, 28, 1], "num_classes": 10, "architecture": {
        "conv_blocks": [{"is_branch": False, "layers": [layer]} for layer in layers],
        "pooling": pool, "dense_blocks": [{"units": units}]}}


CANDIDATES = {
    "tiny": _document([_conv(8, True), _conv(16, True)], {"type": "avg", "pool_size": 2}, 32),
    "mid": _document([_conv(32), _conv(48, True), _conv(64)], {"type": "avg", "pool_size": 4}, 64),
    "largest": _document([_conv(48), _conv(48), _conv(64)], {"type": "max", "pool_size": 6}, 16),
}


def _plain_epoch(network, optimizer, x, y, loader: bool) -> None:
    network.train()
    if loader:
        batches = DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=True)
    else:
        order = torch.randperm(len(y))
        batches = ((x[order[i:i + BATCH]], y[order[i:i + BATCH]]) for i in range(0, len(y), BATCH))
    for xb, yb in batches:
        loss = F.cross_entropy(network(xb), yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


@torch.no_grad()
def _test_accuracy(network, x, y) -> float:
    network.eval()
    return float((network(x).argmax(1) == y).float().mean())


def _plain(initial, x, y, x_test, y_test, loader: bool, threads: int | None) -> tuple[float, float]:
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        network = copy.deepcopy(initial)
        for module in network.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.momentum = 0.1
        optimizer = torch.optim.SGD(network.parameters(), lr=LR, momentum=0.9)
        started = time.perf_counter()
        _plain_epoch(network, optimizer, x, y, loader)
        seconds = time.perf_counter() - started
        return len(y) / seconds, _test_accuracy(network, x_test, y_test)
    finally:
        torch.set_num_threads(previous)


def _munas(architecture, data, seed: int, precision: str) -> tuple[float, float]:
    config = dataclasses.replace(with_epochs(search_defaults("fashion_mnist").preset, 1), batch_size=BATCH, lr=LR,
                                 lr_schedule=(), weight_decay=0.0, dropout=DROPOUT, precision=precision)
    epoch_end = []
    started = time.perf_counter()
    result = train_candidate(architecture, data, config, seed=seed, device="cpu",
                             on_epoch=lambda *_: epoch_end.append(time.perf_counter()))
    if result.status != "ok":
        raise SystemExit(f"munas trainer failed: {result.message}")
    return len(data.y_train) / (epoch_end[0] - started), 1 - result.test_error


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=12800, help="training images per run (one epoch)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--only", choices=sorted(CANDIDATES), action="append", help="benchmark only these")
    args = parser.parse_args()
    console = Console(width=200)
    full = load_dataset("fashion_mnist")
    data = dataclasses.replace(full, x_train=full.x_train[:args.images], y_train=full.y_train[:args.images],
                               x_val=full.x_val[:1000], y_val=full.y_val[:1000], x_test=full.x_test[:1000],
                               y_test=full.y_test[:1000], augmentation=Augmentation())
    native_bf16 = training_dtype(torch.device("cpu"), "auto") is not None
    console.print(f"Fashion-MNIST, {args.images} training images per run, batch {BATCH}, SGD momentum 0.9, "
                  f"best of {args.repeats}; torch {torch.__version__}, default threads {torch.get_num_threads()}, "
                  f"native bf16: {'yes' if native_bf16 else 'no'}")
    table = Table("candidate", "PMU / size / MACs", "DataLoader", "plain", "plain 1 thr", "munas fp32", "munas",
                  "munas / plain", "munas / plain 1 thr", "test acc DL / plain / plain 1 / munas fp32 / munas")
    loops = {
        "loader": lambda init, arch: _plain(init, data.x_train, data.y_train, data.x_test, data.y_test, True, None),
        "plain": lambda init, arch: _plain(init, data.x_train, data.y_train, data.x_test, data.y_test, False, None),
        "plain1": lambda init, arch: _plain(init, data.x_train, data.y_train, data.x_test, data.y_test, False, 1),
        "munas32": lambda init, arch: _munas(arch, data, seed=0, precision="float32"),
        "munas": lambda init, arch: _munas(arch, data, seed=0, precision="auto"),
    }
    for name in args.only or list(CANDIDATES):
        architecture = parse_architecture(CANDIDATES[name])
        resources = compute_resources(architecture)
        torch.manual_seed(0)  # the munas trainer seeds the same way, so all start from these weights
        initial = build_network(architecture, DROPOUT)
        best = {loop: 0.0 for loop in loops}
        accuracy = {}
        for _ in range(args.repeats):
            for loop, run in loops.items():
                speed, accuracy[loop] = run(initial, architecture)
                best[loop] = max(best[loop], speed)
        table.add_row(
            name, f"{resources.pmu:,} / {resources.model_size:,} / {resources.macs / 1e6:.2f}M",
            *(f"{best[loop]:,.0f}" for loop in loops),
            f"{best['munas'] / best['plain']:.2f}x", f"{best['munas'] / best['plain1']:.2f}x",
            " / ".join(f"{accuracy[loop]:.3f}" for loop in loops),
        )
        console.print(f"{name}: done", style="dim")
    console.print("images/second of training (higher is better)")
    console.print(table)


if __name__ == "__main__":
    main()
