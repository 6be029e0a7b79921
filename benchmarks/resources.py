"""Speed of the exact resource models on random search-space architectures.

Prints median / p99 / max seconds per architecture (graph assembly + exact peak memory +
size + MACs; wall clock and process CPU time, as the machine may be shared) for munas's
section solver, for the exhaustive op-set search it replaced (munas profile) and for the
reference's algorithm (a memoised recursion over sets of resident tensors, spec §3.3,
re-implemented here as the baseline), the ratios, checks that all give the same peak on every
architecture, the section solver's times on networks with many branch blocks side by side
(the hard case for every exact method), and the throughput of a ``resources --json`` batch
through the CLI.

    python benchmarks/resources.py [--count 500] [--seed 0] [--branchy 200]
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
from munas.resources.peak_memory import exhaustive_peak_memory
from munas.space.sampling import random_architecture
from munas.space.stress import branchy_architecture, builtin_tasks

ROOT = Path(__file__).resolve().parents[1]
# The input shapes and class counts of the paper's data sets.


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

    @functools.cache
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


def timed(function, *args) -> tuple[object, float, float]:
    """Result, wall seconds and process CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def row(name: str, times: list[float]) -> str:
    return f"{name:<44}{statistics.median(times):>12.6f}{percentile(times, 99):>12.6f}{max(times):>12.6f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reference-limit", type=float, default=5.0, help="seconds per architecture for the baseline")
    parser.add_argument("--branchy", type=int, default=200, help="networks with many branch blocks to time")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    tasks = builtin_tasks()
    architectures = []
    for i in range(args.count):
        shape, classes = tasks[i % len(tasks)]
        architectures.append(random_architecture(shape, classes, rng))

    rows: list[tuple[str, list[float]]] = []
    pmu: dict[str, list[int]] = {}
    for accounting in ("tflm", "munas"):
        results = [timed(compute_resources, architecture, accounting) for architecture in architectures]
        pmu[accounting] = [r.pmu for r, _, _ in results]
        rows.append((f"munas section solver, {accounting}, wall", [w for _, w, _ in results]))
        rows.append((f"munas section solver, {accounting}, CPU", [c for _, _, c in results]))

    exhaustive = [timed(lambda a: exhaustive_peak_memory(build_graph(a, "munas")), a) for a in architectures]
    exhaustive_mismatches = sum(r.peak != p for (r, _, _), p in zip(exhaustive, pmu["munas"]))
    rows.append(("exhaustive op-set search, munas, CPU", [c for _, _, c in exhaustive]))

    reference_times, timeouts, mismatches = [], 0, 0
    for architecture, ours in zip(architectures, pmu["munas"]):
        graph = build_graph(architecture, "munas")
        start = time.process_time()
        peak = reference_peak(graph, args.reference_limit)
        elapsed = time.process_time() - start
        if peak is None:
            timeouts += 1
            reference_times.append(args.reference_limit)
            continue
        reference_times.append(elapsed)
        mismatches += peak != ours
    rows.append(("reference memoised recursion, munas, CPU", reference_times))

    print(f"{args.count} random search-space architectures (input shapes {', '.join(str(s) for s, _ in tasks)})")
    print(f"{'seconds per architecture':<44}{'median':>12}{'p99':>12}{'max':>12}")
    for name, times in rows:
        print(row(name, times))
    ours_cpu = dict(rows)["munas section solver, munas, CPU"]
    for name, times in (("exhaustive op-set search", [c for _, _, c in exhaustive]),
                        ("reference memoised recursion", reference_times)):
        median = statistics.median(times) / statistics.median(ours_cpu)
        print(f"speed-up over the {name} (munas profile, CPU): median {median:.1f}x, "
              f"worst case {max(times) / max(ours_cpu):.1f}x")
    print(f"peak disagreements: exhaustive search {exhaustive_mismatches}, reference {mismatches} "
          f"(reference runs cut at {args.reference_limit}s: {timeouts})")

    if args.branchy:
        branchy_rng = np.random.default_rng(args.seed + 1)
        networks = [branchy_architecture(*tasks[i % len(tasks)], branchy_rng) for i in range(args.branchy)]
        print(f"{args.branchy} networks with one or two groups of 5-8 branch blocks (1-3 layers each)")
        for accounting in ("tflm", "munas"):
            results = [timed(compute_resources, network, accounting) for network in networks]
            print(row(f"munas section solver, {accounting}, wall", [w for _, w, _ in results]))
            print(row(f"munas section solver, {accounting}, CPU", [c for _, _, c in results]))

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
