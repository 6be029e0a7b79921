"""``resources``: PMU, model size, MACs and the best operator order of architecture documents."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import typer
from rich.table import Table

from munas.commands.output import console, report_error
from munas.resources import DEFAULT_PROFILE, compute_resources, get_accounting
from munas.space.architecture import Architecture, ArchitectureError, load_architecture, parse_architecture_json


def read_documents(sources: list[str]) -> Iterator[tuple[str, Architecture | ArchitectureError]]:
    """Yield (where, architecture or error) for each input, in order.

    A source is a file path, or ``-`` for JSON Lines on stdin (one document per line; blank
    lines are skipped). Errors are yielded rather than raised so one bad input does not stop
    the others.
    """
    for source in sources:
        if source == "-":
            for number, line in enumerate(sys.stdin, start=1):
                if not line.strip():
                    continue
                where = f"stdin line {number}"
                try:
                    yield where, parse_architecture_json(line)
                except ArchitectureError as error:
                    yield where, error
        else:
            if not Path(source).is_file():
                yield source, ArchitectureError("no such file (give a path to an architecture JSON, or - for stdin)")
                continue
            try:
                yield source, load_architecture(source)
            except ArchitectureError as error:
                yield source, error


def resources_command(
    files: list[str] = typer.Argument(..., help="Architecture JSON files, or - to read JSON Lines from stdin."),
    accounting: str = typer.Option(DEFAULT_PROFILE, "--accounting", "-a",
                                   help="tflm (int8 TFLM deployment) or munas (paper)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per input, in input order."),
) -> None:
    """Peak memory (PMU), model size and MACs of each architecture, and the order reaching the PMU."""
    get_accounting(accounting)  # an unknown profile is a UserError: one line, exit 2
    failures = 0
    table = Table("input", "PMU (B)", "size (B)", "MACs", "best operator order")
    for where, result in read_documents(files):
        if isinstance(result, ArchitectureError):
            failures += 1
            report_error(f"{where}: {result}")
            if as_json:
                print(json.dumps({"input": where, "error": str(result)}), flush=True)
            continue
        resources = compute_resources(result, accounting)
        if as_json:
            print(json.dumps({"input": where, **resources.as_dict()}), flush=True)
        else:
            table.add_row(where, f"{resources.pmu:,}", f"{resources.model_size:,}", f"{resources.macs:,}",
                          " → ".join(resources.schedule))
    if not as_json and table.row_count:
        console.print(table)
    if failures:
        raise typer.Exit(2)
