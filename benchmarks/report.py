"""What ``search --report`` costs the search: building the page after a candidate, against training it.

Reads a stored run, then times :func:`munas.report.page.build_page` on its candidates and on the
same candidates repeated (with new ids) up to ``--scale`` of them, the size of a paper-scale
search. Prints the seconds per page and the ratio to the run's mean training-seconds per
candidate: the share of the search's time the live page adds (it is rebuilt once per candidate).

    python benchmarks/report.py --run digits-default --runs-dir runs --scale 2000
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace

from munas.report.page import build_page
from munas.search.results import RunResults, read_selection


def seconds_per_page(results: RunResults, repeats: int = 3) -> float:
    build_page(results)  # plotly's first figure pays one-off set-up costs
    started = time.perf_counter()
    for _ in range(repeats):
        build_page(results, running=True, live=True)
    return (time.perf_counter() - started) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True)
    parser.add_argument("--runs-dir", default=None)
    parser.add_argument("--scale", type=int, default=2000, help="Candidates in the scaled-up page.")
    args = parser.parse_args()
    results = read_selection([args.run], None, args.runs_dir)[0]
    stored = results.candidates
    training = sum(c.train_seconds for c in stored) / len(stored)
    scaled = [replace(stored[i % len(stored)], id=i) for i in range(args.scale)]
    print(f"load average {os.getloadavg()[0]:.1f} (1 min); run {args.run}: {len(stored)} candidates, "
          f"{training:.1f} training-seconds per candidate")
    for count, candidates in ((len(stored), stored), (args.scale, scaled)):
        page = seconds_per_page(replace(results, candidates=candidates))
        print(f"{count} candidates: {page:.2f} s per page = {page / training:.3f} × a candidate's training "
              f"({100 * page / training:.1f} % added to the search)")


if __name__ == "__main__":
    main()
