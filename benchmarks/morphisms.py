"""Speed of the morph enumeration that every search step runs.

Parents are random architectures of the paper's input shapes, each moved a few random morphs
away from its start. Prints median / p99 / max milliseconds per parent for ``all_morphs``
(which finds silent children from the parent's one operator graph) and for the obvious way
of dropping silent children (assemble every child's operator graph and compare it with the
parent's), their ratio, and how many entries and silent children a parent has.

    python benchmarks/morphisms.py [--count 500] [--seed 0] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from munas.resources.accounting import TRAINED
from munas.resources.graph import build_graph
from munas.space.morphisms import _candidates, all_morphs
from munas.space.sampling import Sampler, random_architecture
from munas.space.stress import builtin_tasks


def graph_comparison(arch) -> list:
    """The baseline: every candidate child assembled and compared with the parent's graph."""
    def signature(a):
        graph = build_graph(a, TRAINED)
        return [(op.kind, op.inputs, op.kernel, op.stride, op.out_channels, op.has_bn, op.has_relu, op.pool_type)
                for op in graph.ops]

    reference = signature(arch)
    return [m.child for m, _ in _candidates(arch, Sampler(np.random.default_rng(0))) if signature(m.child) != reference]


def timed(function, arch, repeats: int) -> float:
    """Best of ``repeats`` runs, so that other load on the machine does not count."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function(arch)
        best = min(best, time.perf_counter() - start)
    return best


def summary(seconds: list[float]) -> str:
    ms = sorted(s * 1e3 for s in seconds)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return f"median {statistics.median(ms):7.3f} ms   p99 {p99:7.3f} ms   max {ms[-1]:7.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="time each parent this many times, keep the best")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    tasks = builtin_tasks()
    parents = []
    for n in range(args.count):
        shape, classes = tasks[n % len(tasks)]
        arch = random_architecture(shape, classes, rng)
        for _ in range(int(rng.integers(0, 10))):
            children = all_morphs(arch, rng)
            arch = children[int(rng.integers(len(children)))]
        parents.append(arch)

    ours = [timed(lambda a: all_morphs(a, rng), a, args.repeats) for a in parents]
    baseline = [timed(graph_comparison, a, args.repeats) for a in parents]
    entries = [len(all_morphs(a, rng)) for a in parents]
    candidates = [sum(1 for _ in _candidates(a, Sampler(rng))) for a in parents]

    print(f"{len(parents)} parents (shapes {', '.join('x'.join(map(str, s)) for s, _ in tasks)})")
    print(f"all_morphs                  {summary(ours)}")
    print(f"assemble every child        {summary(baseline)}")
    print(f"ratio of medians            {statistics.median(baseline) / statistics.median(ours):.1f}x")
    print(f"entries per parent          median {statistics.median(entries):.0f}, "
          f"min {min(entries)}, max {max(entries)}")
    print(f"silent children dropped     {1 - sum(entries) / sum(candidates):.1%} of all candidates")


if __name__ == "__main__":
    main()
