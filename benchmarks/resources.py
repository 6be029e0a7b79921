"""Speed of the exact resource models on random search-space architectures.

Prints median / p99 / max seconds per architecture (graph assembly + exact peak memory +
size + MACs) for munas's best-first search and for the reference's algorithm (a memoised
recursion over sets of resident tensors, spec §3.3, re-implemented here as the baseline), the
ratio between them, a check that both give the same peak on every architecture, and the
throughput of a ``resources --json`` batch through the CLI.

    python benchmarks/resources.py [--count 500] [--seed 0]
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from munas.resources import compute_resources
from munas.resources.graph import OperatorGraph, build_graph
from munas.space.sampling import random_architecture

ROOT = Path(__file__).resolve().parents[1]
# The input shapes and class counts of the paper's data sets.
TASKS = [((28, 28, 1), 10), ((32, 32, 3), 10), ((48, 48, 3), 62), ((98, 40, 1), 12), ((8, 8, 1), 10)]


def reference_peak(graph: OperatorGraph, time_limit: float) -> int | None:
    """The reference's memoised recursion BEST(S) over sets of resident tensors (munas profile).

    Returns None when it exceeds ``time_limit`` seconds (it is exponential on branchy graphs).
    """
    producer = graph.producer()
    consumers = graph.consumers()
    ancestors: dict[int, frozenset[int]] = {}
    for op in graph.ops:
        found: set[int] = set()
        for t in op.inputs:
            found.add(t)
            found |= ancestors.get(t, frozenset())
        ancestors[op.output] = frozenset(found)
    counted = graph.accounting.input_in_peak_memory

    def cost(tensors) -> int:
        return sum(graph.tensor_bytes(t) for t in tensors if counted or t != graph.input)

    deadline = time.perf_counter() + time_limit

    @functools.lru_cache(maxsize=None)
    def best(resident: frozenset[int]) -> tuple[int, tuple[int, ...]]:
        if time.perf_counter() > deadline:
            raise TimeoutError
        sources = frozenset(t for t in resident if t not in producer)
        if sources:
            peak, order = best(resident - sources)
            return cost(sources) + peak, order
        if not resident:
            return 0, ()
        options = []
        for t in resident:
            if any(t in ancestors.get(r, ()) for r in resident if r != t):
                continue
            index = producer[t]
            op = graph.ops[index]
            needed = (resident - {t}) | frozenset(op.inputs)
            up, order = best(needed)
            in_place = op.kind == "Add" and any(
                graph.shapes[a] == graph.shapes[t] and all(c in order for c in consumers[a] if c != index)
                for a in op.inputs
            )
            step = cost(needed) if in_place else cost(needed | {t})
            options.append((max(up, step), order + (index,)))
        return min(options)

    try:
        return best(frozenset([graph.output]))[0]
    except TimeoutError:
        return None


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reference-limit", type=float, default=5.0, help="seconds per architecture for the baseline")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    architectures = []
    for i in range(args.count):
        shape, classes = TASKS[i % len(TASKS)]
        architectures.append(random_architecture(shape, classes, rng))

    ours: dict[str, list[float]] = {"tflm": [], "munas": []}
    for accounting, times in ours.items():
        for architecture in architectures:
            start = time.perf_counter()
            compute_resources(architecture, accounting)
            times.append(time.perf_counter() - start)

    reference_times, timeouts, mismatches = [], 0, 0
    for architecture in architectures:
        graph = build_graph(architecture, "munas")
        start = time.perf_counter()
        peak = reference_peak(graph, args.reference_limit)
        elapsed = time.perf_counter() - start
        if peak is None:
            timeouts += 1
            reference_times.append(args.reference_limit)
            continue
        reference_times.append(elapsed)
        mismatches += peak != compute_resources(architecture, "munas").pmu

    print(f"{args.count} random search-space architectures (input shapes {', '.join(str(s) for s, _ in TASKS)})")
    print(f"{'method':<34}{'median s':>12}{'p99 s':>12}{'max s':>12}")
    rows = [("munas best-first, tflm", ours["tflm"]), ("munas best-first, munas", ours["munas"]),
            ("reference memoised recursion", reference_times)]
    for name, times in rows:
        print(f"{name:<34}{statistics.median(times):>12.6f}{percentile(times, 99):>12.6f}{max(times):>12.6f}")
    ratio = statistics.median(reference_times) / statistics.median(ours["munas"])
    print(f"median speed-up over the reference algorithm (munas profile): {ratio:.1f}x; "
          f"worst case {max(reference_times) / max(ours['munas']):.1f}x")
    print(f"reference runs cut at {args.reference_limit}s: {timeouts}; peak disagreements: {mismatches}")

    lines = "".join(json.dumps(a.to_dict()) + "\n" for a in architectures)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, str(ROOT / "cli.py"), "resources", "-", "--json"], input=lines,
                            capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    assert len(result.stdout.splitlines()) == len(architectures)
    print(f"`cli.py resources - --json` on {len(architectures)} documents: {elapsed:.2f}s including start-up, "
          f"{len(architectures) / elapsed:.0f} architectures/s")


if __name__ == "__main__":
    main()
