"""``report``: one self-contained HTML page of a run (front, hypervolume, population, surrogate, table)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from munas.commands.output import console
from munas.errors import UserError
from munas.search.results import read_selection


def report_command(
    run: str = typer.Argument(..., help="The run's name (a folder in the runs folder)."),
    out: str | None = typer.Option(None, "--out", help="Where to write the page (default: runs/RUN/report.html)."),
    runs_dir: str | None = typer.Option(None, "--runs-dir", help="Runs folder (default $MUNAS_RUNS_DIR or ./runs)."),
) -> None:
    """Write the run's report: an HTML page with interactive charts that opens offline in any browser."""
    from munas.report.live import default_path, search_running, write_atomically
    from munas.report.page import build_page

    results = read_selection([run], None, runs_dir)[0]
    path = Path(out) if out else default_path(results.run)
    if path.is_dir():
        raise UserError(f"--out {path} is a folder; give a file name such as {path / 'report.html'}")
    if not path.parent.is_dir():
        raise UserError(f"cannot write {path}: the folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise UserError(f"cannot write {path}: {path.parent} is read-only; give --out FILE to write it elsewhere")
    running = search_running(results.run)
    write_atomically(path, build_page(results, running=running))
    state = "snapshot of a running search, " if running else ""
    console.print(f"report ({state}{len(results.candidates)} of {results.config.budget} candidates): {path}",
                  soft_wrap=True, highlight=False)
