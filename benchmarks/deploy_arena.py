"""TFLite Micro's real arena against munas's ``tflm`` PMU, and what munas's operator order saves.

For random search-space architectures (random weights: memory does not depend on them), the
network is converted to int8 TFLite with litert-torch and loaded in TFLite Micro's own
interpreter twice: with the converter's operator order, and reordered to munas's
memory-optimal schedule. Printed: the fraction whose planned arena (the arena head, the
activation buffers) is within 5 % of the PMU, the worst ratio, the persistent overhead (the
arena tail), the smallest arena that allocates, and the saving of munas's order over the
converter's. Each architecture runs in its own process with a timeout: a crash or a hang of
the converter or the runtime is counted and reported, not fatal.

    nice python benchmarks/deploy_arena.py --count 50 --shapes 8,8,1 28,28,1 --bisect 10
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

_TIMEOUT_S = 600


def measure(seed: int, shape: tuple[int, int, int], classes: int, bisect: bool) -> dict:
    """PMU and arenas (converter order, munas order) of the random architecture of ``seed``; with
    ``bisect``, also the smallest arena that allocates (a few dozen child processes: slow)."""
    import numpy as np
    import torch

    from munas.deploy.micro import allocation, arena
    from munas.deploy.order import reorder
    from munas.deploy.tflite import convert_int8
    from munas.resources import build_graph, compute_resources
    from munas.resources.accounting import TFLM
    from munas.space.sampling import random_architecture
    from munas.training.model import build_network

    architecture = random_architecture(shape, classes, np.random.default_rng(seed))
    torch.manual_seed(seed)
    resources = compute_resources(architecture, TFLM)
    model = convert_int8(build_network(architecture).eval(), torch.rand(8, shape[2], shape[0], shape[1]))
    ordered = reorder(model, build_graph(architecture, TFLM), resources.schedule)
    converter_head, _ = allocation(model)
    head, tail = allocation(ordered)
    return {"seed": seed, "shape": list(shape), "pmu": resources.pmu, "converter": converter_head,
            "munas": head, "persistent": tail, "needed": arena(ordered).needed if bisect else None,
            "model_size": resources.model_size, "bytes": len(ordered)}


def _child(seed: int, shape: tuple[int, int, int], classes: int, bisect: bool) -> dict:
    """:func:`measure` in a fresh process; a crash, a timeout or an exception is a row with ``failed``."""
    command = [sys.executable, __file__, "--one", str(seed), "--shapes", ",".join(map(str, shape)),
               "--classes", str(classes)] + (["--bisect", "1"] if bisect else ["--bisect", "0"])
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"seed": seed, "shape": list(shape), "failed": f"timeout after {_TIMEOUT_S} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"seed": seed, "shape": list(shape), "failed": f"exit {done.returncode}: {last[:160]}"}
    return json.loads(lines[-1])


def _summary(rows: list[dict]) -> None:
    ok = [r for r in rows if "failed" not in r]
    failed = [r for r in rows if "failed" in r]
    crashes = "; ".join(f"seed {r['seed']} {r['shape']}: {r['failed']}" for r in failed) or "none"
    print(f"\n{len(rows)} random architectures: {len(ok)} measured, {len(failed)} failed ({crashes})")
    if not ok:
        return
    ratios = [r["munas"] / r["pmu"] for r in ok]
    worst = max(range(len(ok)), key=lambda i: abs(ratios[i] - 1))
    print(f"  arena head / PMU: within 5% on {sum(abs(x - 1) <= 0.05 for x in ratios)} of {len(ok)}; "
          f"median {statistics.median(ratios):.3f}, min {min(ratios):.3f}, max {max(ratios):.3f}; "
          f"worst seed {ok[worst]['seed']} {ok[worst]['shape']}: PMU {ok[worst]['pmu']} B, "
          f"head {ok[worst]['munas']} B")
    gaps = [r["munas"] - r["pmu"] for r in ok]
    print(f"  head - PMU: median {statistics.median(gaps):.0f} B, max {max(gaps)} B")
    tails = [r["persistent"] for r in ok]
    print(f"  persistent tail: median {statistics.median(tails):.0f} B, max {max(tails)} B")
    bisected = [r for r in ok if r["needed"] is not None]
    if bisected:
        extra = [r["needed"] - r["munas"] - r["persistent"] for r in bisected]
        needed = [r["needed"] / r["pmu"] for r in bisected]
        print(f"  smallest allocating arena (bisection, {len(bisected)} architectures): - (head + tail) median "
              f"{statistics.median(extra):.0f} B, max {max(extra)} B; / PMU median {statistics.median(needed):.2f}, "
              f"max {max(needed):.2f}")
    savings = [1 - r["munas"] / r["converter"] for r in ok]
    print(f"  munas order vs converter order (arena head): smaller on {sum(s > 0 for s in savings)}, equal on "
          f"{sum(s == 0 for s in savings)}, larger on {sum(s < 0 for s in savings)} of {len(ok)}; "
          f"mean saving {statistics.mean(savings):.1%}, max {max(savings):.1%}, "
          f"bytes saved in total {sum(r['converter'] - r['munas'] for r in ok)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=50, help="architectures per input shape")
    parser.add_argument("--shapes", nargs="+", default=["8,8,1", "28,28,1"], help="input shapes H,W,C")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--bisect", type=int, default=10, help="architectures per shape whose smallest "
                        "allocating arena is bisected (slow)")
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)  # child: measure one seed
    args = parser.parse_args()
    shapes = [tuple(int(v) for v in text.split(",")) for text in args.shapes]
    if args.one is not None:
        print(json.dumps(measure(args.one, shapes[0], args.classes, args.bisect > 0)),  # type: ignore[arg-type]
              flush=True)
        return
    print(f"load: {os.getloadavg()} (1/5/15-min averages at start)", flush=True)
    rows: list[dict] = []
    try:
        _measure_all(shapes, args, rows)
    except KeyboardInterrupt:  # Ctrl-C: summarise what was measured
        print(f"interrupted after {len(rows)} architectures")
    _summary(rows)
    print(f"load: {os.getloadavg()} (1/5/15-min averages at end)")


def _measure_all(shapes: list, args: argparse.Namespace, rows: list[dict]) -> None:
    for shape in shapes:
        for seed in range(args.count):
            row = _child(seed, shape, args.classes, seed < args.bisect)  # type: ignore[arg-type]
            rows.append(row)
            if "failed" in row:
                print(f"{shape} seed {seed:3d} FAILED {row['failed']}", flush=True)
            else:
                print(f"{shape} seed {seed:3d} pmu {row['pmu']:7d} head(munas order) {row['munas']:7d} "
                      f"ratio {row['munas'] / row['pmu']:.3f} head(converter order) {row['converter']:7d} "
                      f"tail {row['persistent']:6d} needed {row['needed']}", flush=True)


if __name__ == "__main__":
    main()
