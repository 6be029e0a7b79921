"""Zero-cost proxies: what they cost per child, and whether they help the predictor rank.

For the logged candidates of real searches (``benchmarks/results/candidates-*.jsonl``: digits
and Fashion-MNIST networks as the search proposes them), in one process:

1. **Cost.** :func:`munas.training.proxies.zero_cost_proxies` (synflow, NASWOT, gradient norm,
   on one fixed batch) timed per child on one CPU thread, as the search's driver runs it, in
   wall time and in the thread's CPU time (on a machine shared with other jobs the wall time
   mostly measures waiting): median, 90th percentile and maximum, against the 50 ms goal and
   against the candidate's own logged training time (the alternative: training it to find out).
2. **Ablation.** Repeated random splits: the random-forest predictor (``--surrogate rf``) is
   fitted on 25 or 50 candidates with and without the proxies as features, and ranks the
   rest (Kendall τ of predicted vs measured validation error), both over all held-out
   candidates and among their best third (where a search's choices are made). Each proxy
   alone is reported too (τ of ``-proxy`` against the error, since larger proxies mean
   better networks).

    python benchmarks/proxies.py --out benchmarks/results/proxies

Writes ``proxies.json`` and ``proxies.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.stats import kendalltau

from munas.data import load_dataset
from munas.space.architecture import Architecture, parse_architecture
from munas.surrogate.baselines import RandomForestPredictor
from munas.training.proxies import PROXIES, proxy_batch, zero_cost_proxies

RESULTS = Path(__file__).parent / "results"


@dataclass
class Logged:
    """A logged candidate as a predictor sees it: architecture, sparsity, proxies."""

    architecture: Architecture
    sparsity: float | None
    proxies: dict[str, float] | None
    val_error: float
    train_seconds: float


def load(dataset: str, data_dir: str | None, limit: int | None) -> tuple[list[Logged], list[tuple[float, float]]]:
    """The logged candidates of ``dataset`` with their proxies, and the wall and CPU seconds of each
    proxy computation (on a machine shared with other jobs the CPU time is the fairer figure)."""
    path = RESULTS / f"candidates-{dataset}.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    records = [r for r in records if r["status"] == "ok"][:limit]
    data = load_dataset(dataset, data_dir)
    x, y = proxy_batch(data.x_train, data.y_train)
    logged, costs = [], []
    for record in records:
        architecture = parse_architecture(record["architecture"])
        started, cpu = time.perf_counter(), time.thread_time()
        proxies = zero_cost_proxies(architecture, x, y)
        costs.append((time.perf_counter() - started, time.thread_time() - cpu))
        logged.append(Logged(architecture, record["sparsity"], proxies, record["val_error"], record["train_seconds"]))
    return logged, costs


def _tau(predicted: np.ndarray, true: np.ndarray) -> float:
    return float(kendalltau(predicted, true).statistic)


def ablation(logged: list[Logged], sizes: tuple[int, ...], repeats: int) -> list[dict]:
    """τ over all held-out candidates and among their best third, with and without proxies."""
    errors = np.array([c.val_error for c in logged])
    rows = []
    for size in sizes:
        scores: dict[str, list[tuple[float, float]]] = {"without proxies": [], "with proxies": []}
        for repeat in range(repeats):
            order = np.random.default_rng(repeat).permutation(len(logged))
            train, test = order[:size], order[size:]
            best = test[np.argsort(errors[test])[: len(test) // 3]]
            for variant, use in (("without proxies", False), ("with proxies", True)):
                predictor = RandomForestPredictor(seed=repeat)
                predictor.use_proxies = use
                predictor.fit([logged[i] for i in train], errors[train])
                predicted = predictor.predict([logged[i] for i in test]).mean
                position = {index: k for k, index in enumerate(test)}
                scores[variant].append((_tau(predicted, errors[test]),
                                        _tau(predicted[[position[i] for i in best]], errors[best])))
        for variant, values in scores.items():
            array = np.array(values)
            rows.append({"train": size, "predictor": f"rf {variant}", "tau_all": float(np.median(array[:, 0])),
                         "tau_best_third": float(np.median(array[:, 1])), "repeats": repeats})
    best = np.argsort(errors)[: len(errors) // 3]
    for name in PROXIES:
        values = -np.array([c.proxies[name] for c in logged])  # type: ignore[index]
        rows.append({"train": 0, "predictor": f"-{name} alone", "tau_all": _tau(values, errors),
                     "tau_best_third": _tau(values[best], errors[best]), "repeats": 1})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["digits", "fashion_mnist"])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N logged candidates")
    parser.add_argument("--out", type=Path, default=RESULTS / "proxies")
    args = parser.parse_args()
    torch.set_num_threads(1)
    lines = [f"`uptime` load at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs, one torch thread", "",
             "| data set | candidates | proxy wall ms median | p90 | max | CPU ms median | p90 | max "
             "| share under 50 ms CPU | median training s | training ÷ proxies |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    ablations = ["", "| data set | fitted on | predictor | τ all held out | τ best third | repeats |",
                 "|---|---|---|---|---|---|"]
    report = {}
    for dataset in args.datasets:
        logged, costs = load(dataset, args.data_dir, args.limit)
        ms, cpu_ms = (np.array(costs) * 1000).T
        training = float(np.median([c.train_seconds for c in logged]))
        lines.append(f"| {dataset} | {len(logged)} | {np.median(ms):.1f} | {np.percentile(ms, 90):.1f} | "
                     f"{ms.max():.0f} | {np.median(cpu_ms):.1f} | {np.percentile(cpu_ms, 90):.1f} | "
                     f"{cpu_ms.max():.0f} | {np.mean(cpu_ms < 50):.0%} | {training:.1f} | "
                     f"{training * 1000 / np.median(ms):.0f}x |")
        rows = ablation(logged, (25, 50), args.repeats)
        ablations += [f"| {dataset} | {r['train'] or '-'} | {r['predictor']} | {r['tau_all']:.3f} | "
                      f"{r['tau_best_third']:.3f} | {r['repeats']} |" for r in rows]
        report[dataset] = {"wall_ms": ms.tolist(), "cpu_ms": cpu_ms.tolist(), "median_train_seconds": training,
                           "ablation": rows}
        print("\n".join(lines + ablations), flush=True)
    lines.append(f"`uptime` load at end: {os.getloadavg()[0]:.1f}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "proxies.json").write_text(json.dumps(report, indent=1))
    (args.out / "proxies.md").write_text("\n".join(lines + ablations) + "\n")
    print(f"wrote {args.out / 'proxies.md'}")


if __name__ == "__main__":
    main()
