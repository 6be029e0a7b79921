"""Reading the results of searches: which runs a command means, and what they hold.

``pareto`` and ``train-surrogate`` (and the benchmarks) select runs the same way: the runs
named with ``--run``, or every run of ``--dataset`` in the runs folder, or, with neither,
every run there as long as they searched one data set. Errors of different data sets are
not comparable, so a selection never mixes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from munas.errors import UserError
from munas.search.candidates import EvaluatedCandidate
from munas.search.config import SearchConfig
from munas.search.run import RunDirectory, list_runs, runs_root
from munas.search.store import RunStore


@dataclass(frozen=True)
class RunResults:
    """One run's configuration and every candidate it has stored so far."""

    run: RunDirectory
    config: SearchConfig
    candidates: list[EvaluatedCandidate]

    @property
    def name(self) -> str:
        return self.run.name


def select_runs(names: Sequence[str] | None, dataset: str | None, root: str | Path | None = None) -> list[RunDirectory]:
    """The runs ``names``, or every run of ``dataset``, or every run, under the runs folder.

    Raises:
        UserError: a named run does not exist, nothing matches, or the selected runs are of
            several data sets (or not of ``dataset`` when both names and a data set are given).
    """
    base = runs_root(root)
    if names:
        runs = [RunDirectory(name, base) for name in names]
        for run in runs:
            if not run.exists():
                raise UserError(f"run {run.name!r} does not exist in {base}; list them with ls {base}")
    else:
        runs = list_runs(base)
        if dataset is not None:
            runs = [run for run in runs if run.read_config().get("dataset") == dataset]
        if not runs:
            which = f" of data set {dataset!r}" if dataset else ""
            raise UserError(f"no runs{which} in {base}; run a search first (python cli.py search"
                            f"{' --dataset ' + dataset if dataset else ''}) or point --runs-dir at the runs folder")
    datasets = sorted({str(run.read_config().get("dataset")) for run in runs})
    if dataset is not None and datasets != [dataset]:
        raise UserError(f"--dataset {dataset} does not match the runs given (data sets: {', '.join(datasets)})")
    if len(datasets) > 1:
        raise UserError(f"the runs are of several data sets ({', '.join(datasets)}); choose one with --dataset "
                        "or name runs of one data set with --run")
    return runs


def load_results(runs: Sequence[RunDirectory]) -> list[RunResults]:
    """Configuration and stored candidates of each run (a run with no finished candidate has none)."""
    results = []
    for run in runs:
        config = SearchConfig.from_dict(run.read_config())
        candidates: list[EvaluatedCandidate] = []
        if run.database.is_file():
            with RunStore(run.database, readonly=True) as store:
                candidates = store.candidates()
        results.append(RunResults(run, config, candidates))
    return results
