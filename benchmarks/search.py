"""Does screening make the search cheaper? Hypervolume against candidates and training-seconds.

For each data set and seed, runs the same search once per ``--surrogates`` method with the
same budget of candidates: by default ``none`` (plain μNAS), ``gnn`` (K children per step,
the GNN predictor picks the one to train) and ``gnn:multi`` (the same with ``--fidelity
multi``: a quarter-epoch rung first, only promoted children train on; a stopped child counts
as a candidate but costs only its rung); any other predictor (``rf``, ``mlp``, ``NAME:multi``)
can be compared the same way. Cost is counted in training-seconds too: the table gives the
median training-seconds each method needs to reach plain μNAS's final median hypervolume, and
that as a fraction of plain μNAS's training-seconds. After every stored candidate, the
hypervolume of the candidates so far (normalised by the bounds,
:func:`munas.search.pareto.hypervolume`) is recorded; the curves are summarised by their
median over seeds. Reported: the median hypervolume at 25/50/75/100 % of the budget, how
many trainings each screened search needs to reach the plain search's final median
hypervolume, the median number of trained candidates within
every bound, and how well the live predictions ranked the candidates that were trained
(Kendall τ of predicted vs true validation error).

    python benchmarks/search.py --dataset digits --seeds 5 --budget 80 --out benchmarks/results/search
    python benchmarks/search.py --dataset digits fashion_mnist --seeds 5 --budget 300 --epochs 5 \\
        --population 50 --executor process --workers 8

Without a GPU, a full Fashion-MNIST comparison takes days; ``--subset TRAIN TEST`` runs it on a
fixed stratified subset of the data set instead (TRAIN images of its training split, of which
10 % validate, and TEST of its test split), written as an ``.npz`` user data set. Such a data
set gets the user-data defaults (the paper's 64 KB / 64 KB / 30 M bounds and Fashion-MNIST's
training procedure) and, with few images and epochs, needs a looser ``--error`` bound; a pruning
ramp squeezed into 3 epochs ruins most candidates, hence ``--no-pruning``:

    python benchmarks/search.py --dataset fashion_mnist --subset 6000 1000 --no-pruning --error 0.3 \
        --epochs 3 --seeds 5 --budget 40 --population 10 --executor process --workers 2 \
        --out benchmarks/results/search-fashion-subset

Runs are kept in ``<out>/runs`` and resumed if present, so an interrupted benchmark continues.
Writes ``search.json``, ``search.md`` (table) and ``search.png`` (median curves with
inter-quartile bands, against candidates and against cumulative training-seconds) to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from rich.console import Console

from munas.data import load_dataset
from munas.data.splits import stratified_split
from munas.search.candidates import EvaluatedCandidate
from munas.search.config import SearchOptions
from munas.search.fitness import Bounds
from munas.search.loop import run_search
from munas.search.pareto import hypervolume_curve
from munas.search.results import read_run_config
from munas.search.run import RunDirectory
from munas.search.screening import list_screeners
from munas.search.store import RunStore
from munas.surrogate.metrics import prediction_audit

console = Console()


def seconds_curve(candidates: list[EvaluatedCandidate]) -> np.ndarray:
    """Cumulative training-seconds after each stored candidate (rungs and stopped children included)."""
    return np.cumsum([c.train_seconds for c in candidates])


def hypervolume_at_seconds(curve: Sequence[float], seconds: Sequence[float], grid: np.ndarray) -> np.ndarray:
    """The step function "hypervolume reached after s training-seconds" sampled on ``grid``."""
    index = np.searchsorted(np.asarray(seconds), grid, side="right") - 1
    return np.where(index >= 0, np.asarray(curve)[np.clip(index, 0, None)], 0.0)


def split_method(method: str) -> tuple[str, str]:
    """``gnn:multi`` -> (``gnn``, ``multi``); a bare surrogate name trains at full fidelity."""
    surrogate, _, fidelity = method.partition(":")
    return surrogate, fidelity or "full"


def subset_dataset(name: str, train: int, test: int, data_dir: str | None, folder: Path) -> Path:
    """Write stratified subsets of ``name``'s training and test splits as an ``.npz`` data set."""
    path = folder / f"{name}-{train}-{test}.npz"
    if path.exists():
        return path
    dataset = load_dataset(name, data_dir)
    arrays = {}
    for split, x, y, count in (("train", dataset.x_train, dataset.y_train, train),
                               ("test", dataset.x_test, dataset.y_test, test)):
        labels = y.numpy()
        if count < len(labels):
            _, picked = stratified_split(np.arange(len(labels)), labels, count, f"{name} {split} split")
        else:
            picked = np.arange(len(labels))
        arrays[f"x_{split}"] = x[np.sort(picked)].permute(0, 2, 3, 1).numpy()  # NCHW -> the .npz's NHWC
        arrays[f"y_{split}"] = labels[np.sort(picked)]
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


def run_one(args: argparse.Namespace, dataset: str, method: str, seed: int) -> dict | None:
    """Run (or resume) one search and measure it; with ``--report-only``, only measure what is
    stored (None for a search never started)."""
    surrogate, fidelity = split_method(method)
    name = f"{dataset}-{surrogate}{'' if fidelity == 'full' else '-' + fidelity}-s{seed}"
    runs = args.out / "runs"
    resume = RunDirectory(name, runs).exists()
    if args.report_only:
        if not resume:
            return None
        config = read_run_config(RunDirectory(name, runs))
        with RunStore(RunDirectory(name, runs).database, readonly=True) as store:
            return measure(dataset, method, seed, store.candidates()[:args.budget], config.bounds)
    source = args.sources.get(dataset, dataset)
    options = SearchOptions(
        run=name, dataset=source, error=args.error, pruning=not args.no_pruning, budget=args.budget,
        epochs=args.epochs, seed=seed, surrogate=surrogate, fidelity=fidelity,
        screen=None if surrogate == "none" else args.screen, population=args.population, sample=args.sample,
        initial_population=args.initial_population, executor=args.executor, workers=args.workers,
        data_dir=None if source != dataset else args.data_dir,
    )
    console.print(f"[bold]{name}[/]{' (resuming)' if resume else ''}")
    result = run_search(options, resume=resume, runs_root=runs)
    if result.interrupted_by is not None:  # Ctrl-C/SIGTERM stops the benchmark, not just this search
        raise SystemExit(f"interrupted during {name}; run the same command again to continue")
    return measure(dataset, method, seed, result.candidates, result.config.bounds)


def measure(dataset: str, method: str, seed: int, candidates: list[EvaluatedCandidate], bounds: Bounds) -> dict:
    """The curves and counts of one search that the summary and the plot use."""
    curve = hypervolume_curve(candidates, bounds)
    audit = prediction_audit(candidates)
    within = sum(c.ok and bounds.within(c.objectives) for c in candidates)
    return {"dataset": dataset, "method": method, "seed": seed, "curve": curve.tolist(), "within_bounds": within,
            "seconds": seconds_curve(candidates).tolist(),
            "epochs": np.cumsum([c.epochs or 0 for c in candidates]).tolist(),
            "train_seconds": float(sum(c.train_seconds for c in candidates)), "screened": audit[0] if audit else 0,
            "stopped": sum(c.status == "stopped" for c in candidates),
            "live_kendall_tau": audit[1].kendall_tau if audit else None}


def summarise(results: list[dict], budget: int) -> list[dict]:
    rows = []
    for dataset in sorted({r["dataset"] for r in results}):
        medians = {}
        for method in dict.fromkeys(r["method"] for r in results):
            curves = [r["curve"] for r in results if r["dataset"] == dataset and r["method"] == method]
            curves = [c for c in curves if len(c) == budget]
            if curves:
                medians[method] = np.median(np.array(curves), axis=0)
        for method, median in medians.items():
            runs = [r for r in results if r["dataset"] == dataset and r["method"] == method]
            taus = [r["live_kendall_tau"] for r in runs if r["live_kendall_tau"] is not None]
            row = {"dataset": dataset, "method": method, "seeds": len(runs),
                   **{f"hv_at_{p}%": float(median[max(int(budget * p / 100) - 1, 0)]) for p in (25, 50, 75, 100)},
                   "train_hours": sum(r["train_seconds"] for r in runs) / 3600,
                   "within_bounds_median": float(np.median([r["within_bounds"] for r in runs])),
                   "live_kendall_tau_median": float(np.median(taus)) if taus else None}
            row["stopped_median"] = float(np.median([r["stopped"] for r in runs]))
            row["train_seconds_median"] = float(np.median([r["train_seconds"] for r in runs]))
            if "none" in medians:
                target = medians["none"][-1]
                reached = np.flatnonzero(median >= target - 1e-12)
                row["trainings_to_plain_final_hv"] = int(reached[0]) + 1 if len(reached) and target > 0 else None
                plain = [r for r in results if r["dataset"] == dataset and r["method"] == "none"]
                for cost in ("seconds", "epochs"):
                    needed = _cost_to_reach(runs, target, cost) if target > 0 else None
                    row[f"{cost}_to_plain_final_hv"] = needed
                    if needed is not None:
                        row[f"fraction_of_plain_{cost}"] = needed / float(np.median([r[cost][-1] for r in plain]))
            rows.append(row)
    return rows


def _cost_to_reach(runs: list[dict], target: float, cost: str) -> float | None:
    """Median over seeds of the ``cost`` (cumulative ``seconds`` or ``epochs`` of training) each run
    needed to reach ``target`` (a run that never reaches it counts as infinite, so the median is
    None when half of them never do). Epochs trained do not depend on the machine's load."""
    needed = []
    for run in runs:
        reached = np.flatnonzero(np.asarray(run["curve"]) >= target - 1e-12)
        needed.append(run[cost][reached[0]] if len(reached) else np.inf)
    value = float(np.median(needed))
    return value if np.isfinite(value) else None


def plot(results: list[dict], budget: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = sorted({r["dataset"] for r in results})
    figure, axes = plt.subplots(2, len(datasets), figsize=(6 * len(datasets), 8.4), squeeze=False)
    x = np.arange(1, budget + 1)
    for column, dataset in enumerate(datasets):
        done = [r for r in results if r["dataset"] == dataset and len(r["curve"]) == budget]
        grid = np.linspace(0, max((r["seconds"][-1] for r in done), default=1.0), 400)
        for method in dict.fromkeys(r["method"] for r in results):
            surrogate, fidelity = split_method(method)
            label = "plain μNAS (--surrogate none)" if method == "none" else f"--surrogate {surrogate}"
            label += "" if fidelity == "full" else f" --fidelity {fidelity}"
            runs = [r for r in done if r["method"] == method]
            if not runs:
                continue
            for axis, xs, curves in (
                    (axes[0][column], x, [r["curve"] for r in runs]),
                    (axes[1][column], grid, [hypervolume_at_seconds(r["curve"], r["seconds"], grid) for r in runs])):
                q25, q50, q75 = np.percentile(np.array(curves), [25, 50, 75], axis=0)
                axis.plot(xs, q50, label=f"{label}, median of {len(curves)}")
                axis.fill_between(xs, q25, q75, alpha=0.2)
        for row, xlabel in enumerate(("candidates (trained or stopped)", "cumulative training-seconds")):
            axis = axes[row][column]
            axis.set_xlabel(xlabel)
            axis.set_ylabel("hypervolume (normalised by the bounds)")
            axis.set_title(dataset)
            axis.grid(True, alpha=0.3)
            axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


COLUMNS = {"dataset": "data set", "method": "surrogate", "seeds": "seeds", "hv_at_25%": "HV 25%",
           "hv_at_50%": "HV 50%", "hv_at_75%": "HV 75%", "hv_at_100%": "HV 100%",
           "trainings_to_plain_final_hv": "trainings to plain final HV",
           "seconds_to_plain_final_hv": "training-s to plain final HV",
           "fraction_of_plain_seconds": "÷ plain training-s", "epochs_to_plain_final_hv": "epochs to plain final HV",
           "fraction_of_plain_epochs": "÷ plain epochs", "train_seconds_median": "training-s",
           "stopped_median": "stopped", "within_bounds_median": "trained within bounds",
           "live_kendall_tau_median": "live τ", "train_hours": "training h (all seeds)"}


DECIMALS = {"within_bounds_median": 1, "train_hours": 2, "seconds_to_plain_final_hv": 0, "train_seconds_median": 0,
            "stopped_median": 1, "fraction_of_plain_seconds": 2, "epochs_to_plain_final_hv": 0,
            "fraction_of_plain_epochs": 2}
"""Decimals per column (default 4: hypervolumes and τ)."""


def _cell(key: str, value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.{DECIMALS.get(key, 4)}f}" if isinstance(value, float) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", "--datasets", dest="datasets", nargs="+", default=["digits", "fashion_mnist"])
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 per method")
    parser.add_argument("--budget", type=int, default=80, help="trained candidates per search")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per candidate (default: preset)")
    methods = list_screeners() + [f"{name}:multi" for name in list_screeners()]
    parser.add_argument("--surrogates", nargs="+", default=["none", "gnn", "gnn:multi"], choices=methods,
                        help="the --surrogate of each compared search; NAME:multi adds --fidelity multi")
    parser.add_argument("--screen", type=int, default=8, help="K children per step for the screened searches")
    parser.add_argument("--population", type=int, default=None)
    parser.add_argument("--sample", type=int, default=None)
    parser.add_argument("--initial-population", type=int, default=None)
    parser.add_argument("--executor", default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--subset", type=int, nargs=2, metavar=("TRAIN", "TEST"), default=None,
                        help="search on stratified subsets of the training and test splits (see above)")
    parser.add_argument("--no-pruning", action="store_true", help="train candidates without structured pruning")
    parser.add_argument("--error", type=float, default=None, help="validation error bound (default: the data set's)")
    parser.add_argument("--report-only", action="store_true",
                        help="summarise the searches stored in --out without running or resuming any, over their "
                        "first --budget candidates (searches with fewer are left out)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "search")
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    args.sources = {}
    if args.subset:
        for dataset in list(args.datasets):
            path = subset_dataset(dataset, *args.subset, args.data_dir, args.out / "runs" / "data")
            label = f"{dataset}-subset{args.subset[0]}"
            args.sources[label] = str(path.resolve())
            args.datasets[args.datasets.index(dataset)] = label
    measured = [run_one(args, dataset, method, seed)
                for dataset in dict.fromkeys(args.datasets) for seed in range(args.seeds)
                for method in dict.fromkeys(args.surrogates)]
    results = [r for r in measured if r is not None and len(r["curve"]) == args.budget]  # --report-only: finished
    summary = summarise(results, args.budget)
    (args.out / "search.json").write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                                      "summary": summary, "runs": results}, indent=1))
    plot(results, args.budget, args.out / "search.png")
    lines = [f"Median over the seeds counted in the table, budget {args.budget} candidates per search; `uptime` after: "
             f"{os.getloadavg()[0]:.1f} load on {os.cpu_count()} CPUs", "",
             "| " + " | ".join(COLUMNS.values()) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_cell(key, row.get(key)) for key in COLUMNS) + " |" for row in summary]
    (args.out / "search.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    console.print(f"wrote {args.out / 'search.md'}, {args.out / 'search.png'}, {args.out / 'search.json'}")


if __name__ == "__main__":
    main()
