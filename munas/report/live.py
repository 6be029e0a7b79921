"""Writing the report: atomically, and again after every candidate of a running search.

A browser may read the file at any moment, so it is written to a temporary file next to it and
moved into place (``os.replace``): the page is always a whole one, old or new.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from munas.commands.output import report_warning
from munas.search.candidates import EvaluatedCandidate
from munas.search.config import SearchConfig
from munas.search.results import RunResults, load_results
from munas.search.run import RunDirectory

if TYPE_CHECKING:
    from munas.search.loop import Reporter, SearchStats

REPORT_NAME = "report.html"


def default_path(run: RunDirectory) -> Path:
    return run.path / REPORT_NAME


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step (a reader sees the old file or the new one)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def search_running(run: RunDirectory) -> bool:
    """Whether a live process holds the run's lock (it writes ``pid N`` there while it does).

    Read without taking the lock, so asking never gets in a starting search's way; a search
    killed by SIGKILL leaves its pid behind, which is then no longer a live process.
    """
    try:
        holder = (run.path / "lock").read_text().split()
    except OSError:
        return False
    if len(holder) != 2 or holder[0] != "pid" or not holder[1].isdigit():
        return False
    try:
        os.kill(int(holder[1]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


class LiveReport:
    """A search reporter (see :class:`munas.search.loop.Reporter`) for ``search --report``.

    It rewrites the page after every finished candidate, marked as running so it reloads itself,
    and once more when the search stops, without the reload. A page that cannot be written
    (a full disk) is a warning, never the end of the search: the candidates matter more.
    """

    def __init__(self, runs_root: str | Path | None, path: Path | None = None) -> None:
        self._root = runs_root
        self._path = path
        self._results: RunResults | None = None

    @property
    def path(self) -> Path | None:
        return self._path

    def start(self, config: SearchConfig, stats: SearchStats) -> None:
        run = RunDirectory(config.run, self._root)
        stored = load_results([run])[0].candidates  # those of a resumed run
        self._results = RunResults(run, config, list(stored))
        self._path = self._path or default_path(run)
        self._write(running=True)

    def update(self, evaluated: EvaluatedCandidate, stats: SearchStats) -> None:
        if self._results is not None:
            self._results.candidates.append(evaluated)
            self._write(running=True)

    def stop(self) -> None:
        self._write(running=False)

    def _write(self, running: bool) -> None:
        if self._results is None or self._path is None:
            return
        from munas.report.page import build_page

        try:
            write_atomically(self._path, build_page(self._results, running=running, live=True))
        except OSError as error:
            report_warning(f"the report {self._path} cannot be written ({error.strerror or error}); "
                           "the search goes on without it")
            self._results = None


class Reporters:
    """Several search reporters as one: each hears every call, in order (the terminal, then the page)."""

    def __init__(self, reporters: Sequence[Reporter]) -> None:
        self._reporters = list(reporters)

    def start(self, config: SearchConfig, stats: SearchStats) -> None:
        for reporter in self._reporters:
            reporter.start(config, stats)

    def update(self, evaluated: EvaluatedCandidate, stats: SearchStats) -> None:
        for reporter in self._reporters:
            reporter.update(evaluated, stats)

    def stop(self) -> None:
        for reporter in self._reporters:
            reporter.stop()
