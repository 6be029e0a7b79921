"""Log the candidates of a real search as JSON Lines, for the surrogate benchmark and fixtures.

Runs a plain μNAS search (``--surrogate none``, every candidate trained by the real trainer
on the real data set) and writes every evaluated candidate, one JSON object per line, in
completion order (the format :func:`surrogate.samples.samples_from_jsonl` reads).

    python benchmarks/collect_candidates.py --dataset digits --budget 400 --epochs 10 \\
        --out benchmarks/results/candidates-digits.jsonl

An existing run of the same name is resumed, so an interrupted collection continues.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from munas.search.config import SearchOptions
from munas.search.loop import run_search
from munas.search.run import RunDirectory
from munas.search.store import RunStore
from munas.surrogate.samples import candidate_record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--budget", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=None, help="epochs per candidate (default: preset)")
    parser.add_argument("--population", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--executor", default=None, help="inprocess (default), process or ray")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--runs-dir", default=None, help="where the run is kept (default: a temporary folder)")
    parser.add_argument("--out", required=True, help="JSON Lines file to write")
    args = parser.parse_args()

    runs_dir = args.runs_dir or tempfile.mkdtemp(prefix="munas-collect-")
    name = f"collect-{args.dataset}-s{args.seed}"
    resume = RunDirectory(name, runs_dir).exists()
    options = SearchOptions(run=name, dataset=args.dataset, budget=args.budget, epochs=args.epochs,
                            population=args.population, seed=args.seed, surrogate="none",
                            executor=args.executor, workers=args.workers)
    result = run_search(options, resume=resume, runs_root=runs_dir)
    with RunStore(result.run.database, readonly=True) as store:
        candidates = store.candidates()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for candidate in candidates:
            handle.write(json.dumps(candidate_record(candidate, args.dataset)) + "\n")
    ok = sum(c.ok for c in candidates)
    print(f"{len(candidates)} candidates ({ok} ok) of run {name} in {runs_dir} written to {out}")


if __name__ == "__main__":
    main()
