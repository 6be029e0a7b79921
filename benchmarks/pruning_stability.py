"""Pruning stability: how many pruned candidate trainings end in a NaN loss, and what pruning costs.

Candidates are what a search trains: random architectures of the search space (spec §2.2), half
of them replaced by a random morph child (§2.3), each with a target sparsity drawn uniformly from
the preset's range (§4.4). Candidate ``i`` is fully determined by its seed ``i`` (architecture,
sparsity, initial weights, batch order), so two runs train exactly the same candidates.

* ``--feedback fixed`` (default): the trainer as it is.
* ``--feedback leaky``: the straight-through feedback as munas had it before the fix, where the
  gradient of a masked channel also flowed into the input of the op producing it (and so into
  every live layer upstream; see :mod:`munas.training.model`). Only this script switches it back,
  to count the diverged trainings before and after on the same candidates.

The preset is the data set's (spec §6.2) scaled to ``--epochs`` by
:func:`munas.training.presets.with_epochs` (LR steps and the DPF ramp move proportionally).
Candidates whose MACs exceed ``--max-macs`` (default: the data set's MAC bound) are redrawn,
which keeps CPU trainings short; ``--subset TRAIN VAL TEST`` trains on stratified subsets.

``--accuracy-cost K`` instead compares dense training with pruning to sparsity 0.5 on K networks:
the first K candidates (from ``--start``) whose dense validation error is at most
``--max-dense-error`` (default 0.3; many random search-space networks barely learn in a few
epochs, and their pruning cost says nothing), each trained dense and pruned from the same seed.

``--step-time K`` times what the fix costs: for K candidates with their masks installed at their
target sparsity, the best of 3 timings of 30 training steps (forward, backward, optimiser) with
each feedback, interleaved, one thread.

    python benchmarks/pruning_stability.py --dataset digits --epochs 8 --count 120 --feedback leaky
    python benchmarks/pruning_stability.py --dataset digits --epochs 8 --count 120
    MUNAS_DATA_DIR=/work/shared/data python benchmarks/pruning_stability.py --dataset fashion_mnist \\
        --epochs 5 --subset 2000 500 1000 --max-macs 5000000 --count 80 [--feedback leaky]
    python benchmarks/pruning_stability.py --dataset digits --epochs 8 --accuracy-cost 10
    python benchmarks/pruning_stability.py --dataset digits --step-time 10

Nothing here is timed for a claim; ``uptime`` is printed with the table for context.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

from munas.data import load_dataset, search_defaults
from munas.data.dataset import Dataset
from munas.resources import compute_resources
from munas.space.morphisms import random_child
from munas.space.sampling import random_architecture, random_sparsity
from munas.training import model
from munas.training.presets import TrainConfig, with_epochs
from munas.training.trainer import train_candidate

_STATE: dict = {}


def _subset(dataset: Dataset, train: int, val: int, test: int) -> Dataset:
    """Stratified (seed 0) subsets of the three splits."""
    from munas.data.splits import stratified_split

    def take(x: torch.Tensor, y: torch.Tensor, count: int, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        if count >= len(y):
            return x, y
        labels = y.numpy()
        _, picked = stratified_split(np.arange(len(labels)), labels, count, f"{dataset.name} {split}")
        picked = torch.as_tensor(np.sort(picked))
        return x[picked], y[picked]

    x_train, y_train = take(dataset.x_train, dataset.y_train, train, "train")
    x_val, y_val = take(dataset.x_val, dataset.y_val, val, "val")
    x_test, y_test = take(dataset.x_test, dataset.y_test, test, "test")
    return dataclasses.replace(dataset, x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val,
                               x_test=x_test, y_test=y_test, notes=f"subset {train}/{val}/{test}")


def candidate(seed: int, dataset: Dataset, config: TrainConfig, max_macs: int | None):
    """Architecture and target sparsity of candidate ``seed`` (redrawn while over ``max_macs``)."""
    rng = np.random.default_rng(seed)
    while True:
        architecture = random_architecture(dataset.input_shape, dataset.num_classes, rng)
        if rng.random() < 0.5:
            architecture = random_child(architecture, rng)
        sparsity = random_sparsity(rng, config.min_sparsity, config.max_sparsity)
        if max_macs is None or compute_resources(architecture).macs <= max_macs:
            return architecture, sparsity


def _init(args: dict) -> None:
    torch.set_num_threads(1)
    dataset = load_dataset(args["dataset"])
    if args["subset"]:
        dataset = _subset(dataset, *args["subset"])
    config = with_epochs(search_defaults(args["dataset"]).preset, args["epochs"])
    if args["precision"]:
        config = dataclasses.replace(config, precision=args["precision"])
    if args["feedback"] == "leaky":  # the pre-fix behaviour: ST gradient also flows into the op's input
        model._Masked._feedback = lambda self: False
    _STATE.update(dataset=dataset, config=config, max_macs=args["max_macs"])


def _train_one(job: tuple[int, str]) -> dict:
    seed, mode = job
    dataset, config = _STATE["dataset"], _STATE["config"]
    architecture, sparsity = candidate(seed, dataset, config, _STATE["max_macs"])
    target = {"sampled": sparsity, "dense": None, "half": 0.5}[mode]
    result = train_candidate(architecture, dataset, config, sparsity=target, seed=seed)
    return {"seed": seed, "mode": mode, "sparsity": target, "status": result.status, "message": result.message,
            "val_error": result.val_error, "test_error": result.test_error,
            "macs": compute_resources(architecture).macs, "seconds": round(result.train_seconds, 2)}


def _step_times(args: argparse.Namespace, seeds: range) -> None:
    """Best-of-3 time of 30 masked training steps per candidate, leaky against fixed feedback."""
    import time

    from munas.resources.channels import channel_groups
    from munas.training.pruning import update_masks
    from munas.training.trainer import _Optimisation

    _init({k: getattr(args, k) for k in ("dataset", "subset", "epochs", "precision", "feedback", "max_macs")})
    dataset, config = _STATE["dataset"], _STATE["config"]
    fixed = model._Masked._feedback
    print(f"\n{'seed':>5} {'MACs':>10} {'sparsity':>8} {'leaky ms/step':>13} {'fixed ms/step':>13} {'ratio':>6}")
    ratios = []
    for seed in seeds:
        architecture, sparsity = candidate(seed, dataset, config, _STATE["max_macs"])
        torch.manual_seed(seed)
        network = model.build_network(architecture).to(memory_format=torch.channels_last)
        update_masks(network, channel_groups(network.graph), sparsity)
        network.train()
        step = _Optimisation(network, config, torch.device("cpu"), architecture.num_classes == 2)
        x = dataset.x_train[:config.batch_size].contiguous(memory_format=torch.channels_last)
        y = dataset.y_train[:config.batch_size]
        best = {"leaky": math.inf, "fixed": math.inf}
        for _ in range(3):
            for mode in best:
                model._Masked._feedback = fixed if mode == "fixed" else (lambda self: False)
                step.step(x, y)  # warm-up
                started = time.perf_counter()
                for _ in range(30):
                    step.step(x, y)
                best[mode] = min(best[mode], (time.perf_counter() - started) / 30)
        model._Masked._feedback = fixed
        ratios.append(best["fixed"] / best["leaky"])
        print(f"{seed:>5} {compute_resources(architecture).macs:>10,} {sparsity:>8.2f} {1000 * best['leaky']:>13.2f} "
              f"{1000 * best['fixed']:>13.2f} {ratios[-1]:>6.2f}")
    print(f"fixed / leaky step time: median {float(np.median(ratios)):.2f}; load {os.getloadavg()[0]:.2f}")


def _run(args: argparse.Namespace, jobs: list[tuple[int, str]]) -> list[dict]:
    shared = {k: getattr(args, k) for k in ("dataset", "subset", "epochs", "precision", "feedback", "max_macs")}
    rows = []
    with ProcessPoolExecutor(args.jobs, initializer=_init, initargs=(shared,)) as pool:
        for row in pool.map(_train_one, jobs):
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def _learns(row: dict, args: argparse.Namespace) -> bool:
    return row["val_error"] is not None and row["val_error"] <= args.max_dense_error


def _fmt(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{100 * value:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--count", type=int, default=60, help="candidates (seeds start .. start+count-1)")
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--subset", type=int, nargs=3, metavar=("TRAIN", "VAL", "TEST"), default=None)
    parser.add_argument("--max-macs", type=int, default=None, help="redraw candidates above this (default: bound)")
    parser.add_argument("--feedback", choices=("fixed", "leaky"), default="fixed")
    parser.add_argument("--precision", choices=("auto", "float32", "bfloat16"), default=None)
    parser.add_argument("--accuracy-cost", type=int, default=0, metavar="K",
                        help="train K candidates dense and at sparsity 0.5 instead")
    parser.add_argument("--max-dense-error", type=float, default=0.3,
                        help="--accuracy-cost: only networks whose dense val error is at most this")
    parser.add_argument("--step-time", type=int, default=0, metavar="K",
                        help="time masked training steps of K candidates with both feedbacks instead")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (one thread each)")
    parser.add_argument("--out", type=Path, default=None, help="write the rows as JSON here")
    args = parser.parse_args()
    if args.max_macs is None:
        args.max_macs = search_defaults(args.dataset).bounds.macs
    config = with_epochs(search_defaults(args.dataset).preset, args.epochs)
    print(f"# {args.dataset} {args.subset or 'full'} feedback={args.feedback} {config}")

    if args.step_time:
        _step_times(args, range(args.start, args.start + args.step_time))
        return
    if args.accuracy_cost:
        rows, seed, last = [], args.start, args.start + 20 * args.accuracy_cost
        while sum(_learns(row, args) for row in rows) < args.accuracy_cost and seed < last:
            wanted = args.accuracy_cost - sum(_learns(row, args) for row in rows)
            rows += _run(args, [(s, "dense") for s in range(seed, seed + 2 * wanted)])
            seed += 2 * wanted
        kept = [row["seed"] for row in rows if _learns(row, args)][: args.accuracy_cost]
        rows = [row for row in rows if row["seed"] in kept] + _run(args, [(s, "half") for s in kept])
    else:
        seeds = range(args.start, args.start + args.count)
        rows = _run(args, [(seed, "sampled") for seed in seeds])
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows}, indent=1))

    print(f"\nload: {os.getloadavg()[0]:.2f} (1 min average), {os.cpu_count()} CPUs")
    if args.accuracy_cost:
        print(f"\n{'seed':>5} {'MACs':>10} {'dense val%':>10} {'s=0.5 val%':>10} {'dense test%':>11} "
              f"{'s=0.5 test%':>11}")
        by_seed: dict[int, dict] = {}
        for row in rows:
            by_seed.setdefault(row["seed"], {})[row["mode"]] = row
        deltas = []
        for seed, pair in by_seed.items():
            dense, half = pair["dense"], pair["half"]
            print(f"{seed:>5} {dense['macs']:>10,} {_fmt(dense['val_error']):>10} {_fmt(half['val_error']):>10} "
                  f"{_fmt(dense['test_error']):>11} {_fmt(half['test_error']):>11}"
                  + ("" if dense["status"] == half["status"] == "ok" else f"  ({dense['status']}/{half['status']})"))
            if dense["test_error"] is not None and half["test_error"] is not None:
                deltas.append(half["test_error"] - dense["test_error"])
        if deltas:
            print(f"test error, pruned minus dense: median {100 * float(np.median(deltas)):+.1f} points, "
                  f"mean {100 * float(np.mean(deltas)):+.1f} over {len(deltas)} networks")
        return
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    diverged = [row["seed"] for row in rows if row["status"] != "ok"]
    errors = [row["val_error"] for row in rows if row["val_error"] is not None]
    print(f"\n{'data set':<16} {'feedback':<8} {'epochs':>6} {'trainings':>9} {'ok':>4} {'nan_loss':>8} {'failed':>6} "
          f"{'median val err %':>16}")
    print(f"{args.dataset:<16} {args.feedback:<8} {args.epochs:>6} {len(rows):>9} {counts.get('ok', 0):>4} "
          f"{counts.get('nan_loss', 0):>8} {counts.get('failed', 0):>6} "
          f"{_fmt(float(np.median(errors)) if errors else None):>16}")
    print(f"not ok (seeds): {diverged}")


if __name__ == "__main__":
    main()
