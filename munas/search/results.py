"""Reading the results of searches: which runs a command means, and what they hold.

``pareto`` and ``train-surrogate`` (and the benchmarks) select runs the same way: the runs
named with ``--run``, or every run of ``--dataset`` in the runs folder, or, with neither,
every run there as long as they searched one data set. Errors of different data sets are
not comparable, so a selection never mixes them.

One broken run folder (an unreadable config.json, a corrupt store, a run written by another
munas version) must not hide every other run: a run found by scanning the folder that cannot
be read is skipped with one warning naming it and why. A run named with ``--run`` that cannot
be read is an error, since the user asked for exactly that run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


Warn = Callable[[str], None]
"""Where a skipped run's one-line warning goes (the commands print it to stderr)."""


def read_run_config(run: RunDirectory) -> SearchConfig:
    """The run's configuration, or a UserError saying why it cannot be read."""
    try:
        return SearchConfig.from_dict(run.read_config())
    except OSError as error:
        raise UserError(f"{run.config_path} cannot be read ({error.strerror or error})") from None
    except (TypeError, ValueError, KeyError, AttributeError) as error:  # values of the wrong kind
        raise UserError(f"{run.config_path} is not a configuration this munas version can read "
                        f"({type(error).__name__}: {error})") from None


def select_runs(names: Sequence[str] | None, dataset: str | None, root: str | Path | None = None,
                warn: Warn | None = None) -> list[RunDirectory]:
    """The runs ``names``, or every run of ``dataset``, or every run, under the runs folder.

    When scanning (no ``names``), a run whose configuration cannot be read is skipped and
    reported to ``warn`` (without ``warn`` it is an error).

    Raises:
        UserError: a named run does not exist or cannot be read, nothing matches, or the
            selected runs are of several data sets (or not of ``dataset`` when both names and a
            data set are given).
    """
    base = runs_root(root)
    configs: dict[str, SearchConfig] = {}
    if names:
        runs = [RunDirectory(name, base) for name in names]
        for run in runs:
            if not run.exists():
                raise UserError(f"run {run.name!r} does not exist in {base}; list them with ls {base}")
            configs[run.name] = read_run_config(run)
    else:
        runs = []
        for run in list_runs(base):
            try:
                configs[run.name] = read_run_config(run)
            except UserError as error:
                _skip(run, error, warn)
                continue
            if dataset is None or configs[run.name].dataset == dataset:
                runs.append(run)
        if not runs:
            which = f" of data set {dataset!r}" if dataset else ""
            raise UserError(f"no runs{which} in {base}; run a search first (python cli.py search"
                            f"{' --dataset ' + dataset if dataset else ''}) or point --runs-dir at the runs folder")
    datasets = sorted({configs[run.name].dataset for run in runs})
    if dataset is not None and datasets != [dataset]:
        raise UserError(f"--dataset {dataset} does not match the runs given (data sets: {', '.join(datasets)})")
    if len(datasets) > 1:
        raise UserError(f"the runs are of several data sets ({', '.join(datasets)}); choose one with --dataset "
                        "or name runs of one data set with --run")
    return runs


def load_results(runs: Sequence[RunDirectory], warn: Warn | None = None) -> list[RunResults]:
    """Configuration and stored candidates of each run (a run with no finished candidate has none).

    With ``warn``, a run that cannot be read is skipped and reported there; without, it is an error.

    Raises:
        UserError: a run cannot be read (without ``warn``), or none of them can.
    """
    results = []
    for run in runs:
        try:
            config = read_run_config(run)
            candidates: list[EvaluatedCandidate] = []
            if run.database.is_file():
                with RunStore(run.database, readonly=True) as store:
                    candidates = store.candidates()
        except UserError as error:
            _skip(run, error, warn)
            continue
        results.append(RunResults(run, config, candidates))
    if runs and not results:
        raise UserError(f"none of the runs {', '.join(r.name for r in runs)} can be read (see the warnings above)")
    return results


def read_selection(names: Sequence[str] | None, dataset: str | None, root: str | Path | None = None,
                   warn: Warn | None = None) -> list[RunResults]:
    """:func:`select_runs` then :func:`load_results`: broken runs found by scanning are skipped
    with a warning, a broken run named in ``names`` is an error."""
    return load_results(select_runs(names, dataset, root, warn), None if names else warn)


def _skip(run: RunDirectory, error: UserError, warn: Warn | None) -> None:
    if warn is None:
        raise error
    warn(f"skipped run {run.name!r}: {error}")
