"""TFLite Micro's real arena against munas's ``tflm`` PMU, and what munas's operator order saves.

For random search-space architectures (random weights: memory does not depend on them), the
network is converted to int8 TFLite with litert-torch and loaded in TFLite Micro's own
interpreter twice: with the converter's operator order, and reordered to munas's
memory-optimal schedule. Printed: the fraction whose planned arena (the arena head, the
activation buffers) is within 5 % of the PMU, the worst ratio, the persistent overhead (the
arena tail) and the saving of munas's order over the converter's.

    python benchmarks/deploy_arena.py --count 100 --shape 8 8 1
"""

from __future__ import annotations

import argparse
import os
import statistics

import numpy as np
import torch

from munas.deploy.micro import arena
from munas.deploy.order import operator_names, reorder
from munas.deploy.tflite import convert_int8
from munas.resources import build_graph, compute_resources
from munas.resources.accounting import TFLM
from munas.space.sampling import random_architecture
from munas.training.model import build_network


def measure(seed: int, shape: tuple[int, int, int], classes: int) -> dict:
    """PMU and arenas (converter order, munas order) of the random architecture of ``seed``."""
    architecture = random_architecture(shape, classes, np.random.default_rng(seed))
    torch.manual_seed(seed)
    resources = compute_resources(architecture, TFLM)
    model = convert_int8(build_network(architecture).eval(), torch.rand(8, shape[2], shape[0], shape[1]))
    ordered = reorder(model, build_graph(architecture, TFLM), resources.schedule)
    converter, ours = arena(model), arena(ordered)
    names = operator_names(ordered)
    return {"seed": seed, "pmu": resources.pmu, "converter": converter.planned, "munas": ours.planned,
            "persistent": ours.persistent, "needed": ours.needed, "model_size": resources.model_size,
            "bytes": len(ordered),
            "extra_ops": sorted({n for n in names if n in ("TRANSPOSE", "RESHAPE", "QUANTIZE")})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--shape", type=int, nargs=3, default=(8, 8, 1), metavar=("H", "W", "C"))
    parser.add_argument("--classes", type=int, default=10)
    args = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.2f} (1-min average at start)")
    rows = []
    for seed in range(args.count):
        row = measure(seed, tuple(args.shape), args.classes)
        rows.append(row)
        print(f"{seed:3d} pmu {row['pmu']:7d} arena(munas order) {row['munas']:7d} "
              f"ratio {row['munas'] / row['pmu']:.3f} converter order {row['converter']:7d} "
              f"tail {row['persistent']:6d} needed {row['needed']:7d} {' '.join(row['extra_ops'])}", flush=True)
    ratios = [r["munas"] / r["pmu"] for r in rows]
    within = sum(abs(r - 1) <= 0.05 for r in ratios) / len(rows)
    worst = max(range(len(rows)), key=lambda i: abs(ratios[i] - 1))
    savings = [1 - r["munas"] / r["converter"] for r in rows]
    print(f"\n{len(rows)} random architectures, input {tuple(args.shape)}:")
    print(f"  arena head within 5% of PMU: {within:.0%}; median ratio {statistics.median(ratios):.3f}; "
          f"worst {ratios[worst]:.3f} (seed {rows[worst]['seed']}: PMU {rows[worst]['pmu']} B, "
          f"arena {rows[worst]['munas']} B, extra ops {rows[worst]['extra_ops']})")
    print(f"  arena head / PMU min {min(ratios):.3f} max {max(ratios):.3f}")
    print(f"  persistent tail: median {statistics.median(r['persistent'] for r in rows):.0f} B, "
          f"max {max(r['persistent'] for r in rows)} B")
    print(f"  munas order vs converter order: saves >0 on {sum(s > 0 for s in savings)} of {len(rows)}, "
          f"mean saving {statistics.mean(savings):.1%}, max {max(savings):.1%}, "
          f"worse on {sum(s < 0 for s in savings)}")


if __name__ == "__main__":
    main()
