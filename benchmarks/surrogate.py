"""How well the GNN surrogate ranks unseen candidates, against flat-feature baselines, and
what screening K children costs.

For each data set (candidates logged by real searches, see ``collect_candidates.py``), for
each training-set size n: draw n candidates at random, fit the GNN ensemble, a random forest
and an MLP on them, and compute Kendall τ (and Spearman ρ, MAE) of predicted vs true
validation error on all the *other* candidates; repeat with fresh draws and report mean ± sd.
Then time one screening step of K children (encode them, one batched ensemble forward pass,
fitness with exact resources) against scoring the same children one by one.

    python benchmarks/surrogate.py                      # default logs in benchmarks/results/
    python benchmarks/surrogate.py LOG_OR_RUN_DIR ... --sizes 25 50 100 200 --repeats 5

Writes ``surrogate.json``, ``surrogate.md`` (the table) and ``surrogate.png`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from torch_geometric.data import Batch

from munas.data import search_defaults
from munas.resources import compute_resources
from munas.resources.channels import pruned_shape
from munas.search.candidates import Candidate
from munas.search.fitness import random_fitness
from munas.search.predictors import Predictor
from munas.search.results import load_results
from munas.search.run import RunDirectory
from munas.search.screening import PredictorScreener
from munas.space.morphisms import random_child
from munas.surrogate.baselines import MLPPredictor, RandomForestPredictor
from munas.surrogate.encoding import encode
from munas.surrogate.ensemble import SurrogateEnsemble
from munas.surrogate.metrics import score
from munas.surrogate.predictor import GNNPredictor
from munas.surrogate.samples import Sample, samples_from_jsonl, samples_from_results

RESULTS = Path(__file__).parent / "results"
DEFAULT_SOURCES = [RESULTS / "candidates-digits.jsonl", RESULTS / "candidates-fashion_mnist.jsonl"]
MIN_TEST = 50
MODELS: dict[str, type[Predictor]] = {"gnn": GNNPredictor, "random_forest": RandomForestPredictor, "mlp": MLPPredictor}
"""The predictors compared, under the names the results use (``--surrogate gnn``, ``rf``, ``mlp``)."""
console = Console()


def load_sources(sources: list[Path]) -> dict[str, list[Sample]]:
    """Samples grouped by data set; a source is a JSON Lines log or a run directory."""
    by_dataset: dict[str, list[Sample]] = defaultdict(list)
    for source in sources:
        if source.is_dir():
            samples = samples_from_results(load_results([RunDirectory(source.name, source.parent)]))
        elif source.is_file():
            samples = samples_from_jsonl(source)
        else:
            console.print(f"[yellow]skipping {source}: not found[/]")
            continue
        for sample in samples:
            by_dataset[sample.dataset].append(sample)
    return dict(by_dataset)


def accuracy_study(samples: list[Sample], sizes: list[int], repeats: int, seed: int, progress: Progress) -> list[dict]:
    errors = np.array([s.val_error for s in samples])
    usable = [n for n in sizes if n + MIN_TEST <= len(samples)]
    for n in sorted(set(sizes) - set(usable)):
        console.print(f"[yellow]{samples[0].dataset}: n={n} skipped, only {len(samples)} candidates "
                      f"(need n + {MIN_TEST} held out)[/]")
    rows = []
    task = progress.add_task(f"{samples[0].dataset}: fits", total=len(usable) * repeats)
    for n in usable:
        for r in range(repeats):
            rng = np.random.default_rng([seed, n, r])
            order = rng.permutation(len(samples))
            train, test = order[:n], order[n:]
            train_samples, test_samples = [samples[i] for i in train], [samples[i] for i in test]
            for model_name, model in MODELS.items():
                predictor = model(seed=rng)  # the models draw from one stream, in MODELS' order
                started = time.perf_counter()
                predictor.fit(train_samples, errors[train])
                fit_seconds = time.perf_counter() - started
                rows.append({"dataset": samples[0].dataset, "n": n, "repeat": r, "model": model_name,
                             "test_size": len(test),
                             **score(predictor.predict(test_samples).mean, errors[test]).as_dict(),
                             "fit_seconds": fit_seconds})
            latest = rows[-len(MODELS):]
            taus = ", ".join(f"{row['model']} {row['kendall_tau']:.3f}" for row in latest)
            progress.console.print(f"{samples[0].dataset} n={n} repeat {r}: τ {taus} "
                                   f"(GNN fit {latest[0]['fit_seconds']:.1f} s)")
            progress.advance(task)
    return rows


def noise_reference(samples: list[Sample]) -> float | None:
    """Kendall τ between the validation and the test error of the same trained candidates.

    Both measure the same network on different images, so this says how much of the
    validation-error ranking is measurement noise: a predictor is scored against the
    validation error, and on a small validation set even the test error ranks it poorly.
    """
    pairs = [(s.val_error, s.test_error) for s in samples if s.test_error is not None]
    return score(*zip(*pairs)).kendall_tau if len(pairs) >= 2 else None


def screening_cost(samples: list[Sample], k: int, trials: int, seed: int) -> dict:
    """Median milliseconds of one screening step, batched vs child by child."""
    rng = np.random.default_rng(seed)
    dataset = samples[0].dataset
    fit_set = [samples[i] for i in rng.permutation(len(samples))[:100]]
    predictor = GNNPredictor(seed=rng)
    predictor.fit(fit_set, [s.val_error for s in fit_set])
    assert predictor.ensemble is not None
    ensemble = predictor.ensemble
    screener = PredictorScreener(predictor, children_per_step=k)
    bounds = search_defaults(dataset).bounds_for(pruning=True)
    batched, single = [], []
    for _ in range(trials):
        parent = fit_set[int(rng.integers(len(fit_set)))]
        children = []
        for _ in range(k):
            architecture = random_child(parent.architecture, rng)
            resources = compute_resources(pruned_shape(architecture, parent.sparsity))  # as the search does
            children.append(Candidate(architecture, parent.sparsity, resources))
        fitness = random_fitness(bounds, rng)
        started = time.perf_counter()
        chosen = screener.choose(children, fitness)
        batched.append(time.perf_counter() - started)
        started = time.perf_counter()
        scores = []
        for child in children:
            prediction = predictor.predict([child])
            r = child.resources
            scores.append(fitness((max(prediction.mean[0] - screener.kappa * prediction.std[0], 0.0),
                                   r.pmu, r.model_size, r.macs)))
        single.append(time.perf_counter() - started)
        assert int(np.argmax(scores)) == chosen, "batched and one-by-one screening disagree"
    graphs = [encode(c.architecture, c.sparsity) for c in children]
    cores = os.cpu_count() or 1
    return {"dataset": dataset, "k": k, "trials": trials, "members": len(ensemble.members),
            "batched_ms": 1000 * statistics.median(batched), "one_by_one_ms": 1000 * statistics.median(single),
            "cores": cores, "forward_1_thread_ms": forward_ms(ensemble, graphs, 1, trials),
            "forward_all_threads_ms": forward_ms(ensemble, graphs, cores, trials)}


def forward_ms(ensemble: SurrogateEnsemble, graphs: list, threads: int, trials: int) -> float:
    """Median ms of the members' forward pass over one batch with ``threads`` torch threads
    (why the surrogate runs single-threaded: :mod:`surrogate.threads`)."""
    batch = Batch.from_data_list(graphs)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    times = []
    try:
        with torch.inference_mode():
            for _ in range(trials):
                started = time.perf_counter()
                for member in ensemble.members:
                    member(batch)
                times.append(time.perf_counter() - started)
    finally:
        torch.set_num_threads(previous)
    return 1000 * statistics.median(times)


def summarise(rows: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["dataset"], row["n"], row["model"])].append(row)
    out = []
    for (dataset, n, model), items in sorted(groups.items()):
        taus = [i["kendall_tau"] for i in items]
        out.append({"dataset": dataset, "n": n, "model": model, "repeats": len(items),
                    "tau_mean": float(np.mean(taus)), "tau_sd": float(np.std(taus)),
                    "rho_mean": float(np.mean([i["spearman_rho"] for i in items])),
                    "mae_mean": float(np.mean([i["mae"] for i in items])),
                    "test_size": items[0]["test_size"]})
    return out


HEADER = ("data set", "n", "GNN τ", "random forest τ", "MLP τ", "GNN ρ", "GNN MAE", "held out")


def table_rows(summary: list[dict], counts: dict[str, int]) -> list[tuple[str, ...]]:
    """One row per (data set, n): τ mean ± sd of each model, GNN ρ and MAE."""
    cells = {(s["dataset"], s["n"], s["model"]): s for s in summary}
    rows = []
    for dataset, n in sorted({(s["dataset"], s["n"]) for s in summary}):
        models = [cells[(dataset, n, name)] for name in MODELS]
        g = models[0]
        rows.append((f"{dataset} ({counts[dataset]} cands)", str(n),
                     *(f"{x['tau_mean']:.3f} ± {x['tau_sd']:.3f}" for x in models),
                     f"{g['rho_mean']:.3f}", f"{g['mae_mean']:.4f}", str(g["test_size"])))
    return rows


def noise_lines(noise: dict[str, float | None]) -> list[str]:
    return [f"{dataset}: Kendall τ between validation and test error of the same candidates = "
            f"{'-' if tau is None else f'{tau:.3f}'} (how much of the validation ranking is measurement noise)"
            for dataset, tau in noise.items()]


def timing_line(timing: dict) -> str:
    return (f"Screening K={timing['k']} children ({timing['dataset']}, {timing['members']} members, CPU, median of "
            f"{timing['trials']}): {timing['batched_ms']:.1f} ms per screen batched vs "
            f"{timing['one_by_one_ms']:.1f} ms one by one ({timing['one_by_one_ms'] / timing['batched_ms']:.1f}x). "
            "Forward pass of the batch: "
            f"{timing['forward_1_thread_ms']:.1f} ms on 1 thread vs {timing['forward_all_threads_ms']:.1f} ms on "
            f"{timing['cores']} threads.")


def markdown(summary: list[dict], timing: dict, counts: dict[str, int], noise: dict[str, float | None]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(summary, counts)]
    return "\n".join(lines + [""] + noise_lines(noise) + ["", timing_line(timing)]) + "\n"


def plot(summary: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = sorted({s["dataset"] for s in summary})
    figure, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 4), squeeze=False)
    for axis, dataset in zip(axes[0], datasets):
        for model, label in (("gnn", "GNN ensemble"), ("random_forest", "random forest"), ("mlp", "MLP")):
            items = sorted((s for s in summary if s["dataset"] == dataset and s["model"] == model),
                           key=lambda s: s["n"])
            axis.errorbar([s["n"] for s in items], [s["tau_mean"] for s in items], [s["tau_sd"] for s in items],
                          marker="o", capsize=3, label=label)
        axis.axhline(0.6, color="grey", linestyle="--", linewidth=1)
        axis.set_xscale("log")
        sizes = sorted({s["n"] for s in summary if s["dataset"] == dataset})
        axis.set_xticks(sizes, [str(n) for n in sizes])
        axis.minorticks_off()
        axis.set_xlabel("training candidates")
        axis.set_ylabel("Kendall τ on held-out candidates")
        axis.set_title(dataset)
        axis.grid(True, alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="*", type=Path, default=DEFAULT_SOURCES,
                        help="JSON Lines candidate logs or run directories")
    parser.add_argument("--sizes", type=int, nargs="+", default=[25, 50, 100, 200])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--screen", type=int, default=32, help="K children per screening step")
    parser.add_argument("--trials", type=int, default=30, help="screening steps timed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    by_dataset = load_sources(args.sources)
    if not by_dataset:
        raise SystemExit("no candidates found; collect some with benchmarks/collect_candidates.py")
    rows = []
    with Progress(console=console, transient=True) as progress:
        for samples in by_dataset.values():
            rows += accuracy_study(samples, args.sizes, args.repeats, args.seed, progress)
    first = next(iter(by_dataset.values()))
    timing = screening_cost(first, args.screen, args.trials, args.seed)
    summary = summarise(rows)
    counts = {d: len(s) for d, s in by_dataset.items()}
    noise = {d: noise_reference(s) for d, s in by_dataset.items()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "surrogate.json").write_text(json.dumps({"summary": summary, "rows": rows, "screening": timing,
                                                         "candidates": counts, "val_test_tau": noise,
                                                         "sizes": args.sizes, "repeats": args.repeats}, indent=1))
    text = markdown(summary, timing, counts, noise)
    (args.out / "surrogate.md").write_text(text)
    plot(summary, args.out / "surrogate.png")
    table = Table(*HEADER, title="Kendall τ of predicted vs true validation error, held-out candidates")
    for row in table_rows(summary, counts):
        table.add_row(*row)
    console.print(table)
    for line in noise_lines(noise):
        console.print(line)
    console.print(timing_line(timing))
    console.print(f"wrote {args.out / 'surrogate.md'}, {args.out / 'surrogate.png'}, {args.out / 'surrogate.json'}")


if __name__ == "__main__":
    main()
