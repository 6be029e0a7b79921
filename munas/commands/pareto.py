"""``pareto``: the non-dominated candidates of one or more runs: table, PNG, hypervolume, JSON/CSV."""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.table import Table

from munas.commands.output import console, report_warning
from munas.commands.plots import plot_fronts, plot_progress
from munas.commands.units import describe_bounds, format_bytes, format_count, parse_bytes, parse_count, parse_error_rate
from munas.errors import UserError
from munas.search.candidates import EvaluatedCandidate
from munas.search.fitness import Bounds
from munas.search.pareto import hypervolume, pareto_front
from munas.search.results import RunResults, read_selection
from munas.search.run import runs_root

if TYPE_CHECKING:
    from munas.surrogate.metrics import Scores

HYPERVOLUME_NOTE = ("hypervolume: objectives divided by their bounds, reference point = the bounds (1, …, 1); "
                    "1.0 would be a zero-error, zero-cost network")
ERROR_NOTE = ("val/test/int8: validation, test and int8 test error; the front uses the validation error "
              "(selection never sees the test set); fits: within every bound")
CSV_FIELDS = ("run", "id", "val_error", "test_error", "int8_test_error", "pmu", "model_size", "macs", "sparsity",
              "within_bounds", "parent_id")


def bound_overrides(error: str | None, pmu: str | None, size: str | None,
                    macs: str | None) -> tuple[dict[str, Any], set[str]]:
    """Parsed bound options: (values given, names explicitly set to none)."""
    parsed = {
        "error": None if error is None else parse_error_rate(error, "--error"),
        "pmu": None if pmu is None else parse_bytes(pmu, "--pmu"),
        "model_size": None if size is None else parse_bytes(size, "--size"),
        "macs": None if macs is None else parse_count(macs, "--macs"),
    }
    texts = {"error": error, "pmu": pmu, "model_size": size, "macs": macs}
    dropped = {k for k, text in texts.items() if text is not None and parsed[k] is None}
    return {k: v for k, v in parsed.items() if v is not None}, dropped


def _comparable(results: list[RunResults]) -> None:
    """Fronts over several runs need resources counted one way."""
    if len({r.config.accounting for r in results}) > 1:
        raise UserError("these runs used different --accounting profiles; their resources are not comparable")


def front_rows(groups: dict[str, list[EvaluatedCandidate]], bounds: Bounds,
               within_bounds: bool) -> list[tuple[str, EvaluatedCandidate]]:
    """The front over all runs together, each member with its run name, by validation error."""
    owner = {id(c): name for name, candidates in groups.items() for c in candidates}
    everything = [c for candidates in groups.values() for c in candidates]
    return [(owner[id(c)], c) for c in pareto_front(everything, bounds, within_bounds)]


def front_table(rows: list[tuple[str, EvaluatedCandidate]], bounds: Bounds, show_run: bool, title: str) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    if show_run:
        table.add_column("run")
    for name in ("id", "val", "test", "int8", "PMU", "size", "MACs", "sparsity", "fits"):
        table.add_column(name, justify="right", no_wrap=True)
    for run, c in rows:
        cells = [str(c.id), f"{c.val_error:.4f}", format_rate(c.test_error), format_rate(c.int8_test_error),
                 format_bytes(c.pmu), format_bytes(c.model_size), format_count(c.macs),
                 "-" if c.sparsity is None else f"{c.sparsity:.2f}", "yes" if bounds.within(c.objectives) else "no"]
        table.add_row(*([run] if show_run else []), *cells)
    return table


def format_rate(value: float | None) -> str:
    """An error rate with 4 decimals; ``-`` for None."""
    return "-" if value is None else f"{value:.4f}"


def row_dict(run: str, c: EvaluatedCandidate, bounds: Bounds) -> dict[str, Any]:
    return {"run": run, "id": c.id, "parent_id": c.parent_id, "val_error": c.val_error, "test_error": c.test_error,
            "int8_test_error": c.int8_test_error, "pmu": c.pmu, "model_size": c.model_size, "macs": c.macs,
            "sparsity": c.sparsity, "within_bounds": bounds.within(c.objectives)}


def _audit(candidates: list[EvaluatedCandidate]) -> tuple[int, Scores] | None:
    """The surrogate's live accuracy for a run that stored predictions (imports the surrogate only then)."""
    if not any(c.predicted_error is not None for c in candidates):
        return None
    from munas.surrogate.metrics import prediction_audit

    return prediction_audit(candidates)


def _audit_dict(candidates: list[EvaluatedCandidate]) -> dict[str, Any] | None:
    audit = _audit(candidates)
    return None if audit is None else {"screened_candidates": audit[0], **audit[1].as_dict()}


def _progress_path(plot_path: Path) -> Path:
    """Where the hypervolume-progress plot goes: next to the front plot."""
    return plot_path.with_name(f"{plot_path.stem}-hypervolume{plot_path.suffix or '.png'}")


def pareto_command(
    dataset: str | None = typer.Option(None, "--dataset", help="Every run of this data set in the runs folder."),
    run: list[str] = typer.Option([], "--run", help="A run name (repeat for several)."),
    error: str | None = typer.Option(None, "--error", help="Error bound, e.g. 0.1 or 10% (default: the run's)."),
    pmu: str | None = typer.Option(None, "--pmu", help="Peak-memory bound, e.g. 64KB (default: the run's)."),
    size: str | None = typer.Option(None, "--size", help="Model-size bound, e.g. 64KB (default: the run's)."),
    macs: str | None = typer.Option(None, "--macs", help="MACs bound, e.g. 30M (default: the run's)."),
    within_bounds: bool = typer.Option(False, "--within-bounds", help="Only candidates within every bound."),
    as_json: bool = typer.Option(False, "--json", help="Print the front as JSON (no table)."),
    as_csv: bool = typer.Option(False, "--csv", help="Print the front as CSV (no table)."),
    out: str | None = typer.Option(None, "--out", help="Where to write the PNG (default: in the runs folder)."),
    runs_dir: str | None = typer.Option(None, "--runs-dir", help="Runs folder (default $MUNAS_RUNS_DIR or ./runs)."),
) -> None:
    """Non-dominated candidates over (validation error, PMU, size, MACs) of one or more runs."""
    if as_json and as_csv:
        raise UserError("give --json or --csv, not both")
    root = runs_root(runs_dir)
    results = read_selection(run, dataset, root, warn=report_warning)
    _comparable(results)
    config = results[0].config
    groups = {r.name: r.candidates for r in results}
    given, dropped = bound_overrides(error, pmu, size, macs)
    values = config.bounds.as_dict() | given
    bounds = Bounds.from_dict({k: (None if k in dropped else v) for k, v in values.items()})
    everything = [c for candidates in groups.values() for c in candidates]
    if not any(c.ok for c in everything):
        raise UserError(f"no trained candidates in {', '.join(groups)} yet; let the search run (or resume it) first")
    rows = front_rows(groups, bounds, within_bounds)
    total_hv = hypervolume(everything, bounds) if bounds.active else 0.0
    default_plot = results[0].run.plot_path if len(results) == 1 else root / f"pareto-{config.dataset}.png"
    plot_path = Path(out) if out else default_plot
    plotted = bool(out) or not (as_json or as_csv)
    if plotted and not out and not os.access(plot_path.parent, os.W_OK):  # a finished run on read-only storage
        report_warning(f"plot not written: {plot_path.parent} is read-only; give --out FILE to write it elsewhere")
        plotted = False
    if plotted:
        plot_path.parent.mkdir(parents=True, exist_ok=True)
        plot_fronts(groups, bounds, rows, str(plot_path), title=f"{config.dataset}: validation error vs resources")
        if bounds.active:
            plot_progress(groups, bounds, str(_progress_path(plot_path)),
                          title=f"{config.dataset}: hypervolume against candidates and training-seconds")
    if as_json:
        print(json.dumps({
            "dataset": config.dataset, "accounting": config.accounting, "error": "val_error",
            "bounds": bounds.as_dict(), "within_bounds_only": within_bounds, "hypervolume": total_hv,
            "hypervolume_reference": "objectives / bounds, reference point (1, ..., 1) over the bounded objectives",
            "runs": {name: {"candidates": len(c), "hypervolume": hypervolume(c, bounds) if bounds.active else 0.0,
                            "train_seconds": sum(x.train_seconds for x in c),
                            "stopped": sum(x.status == "stopped" for x in c),
                            "surrogate": _audit_dict(c)} for name, c in groups.items()},
            "front": [row_dict(name, c, bounds) | {"architecture": c.architecture.to_dict(),
                                                   "pruned_architecture": c.pruned_architecture.to_dict()
                                                   if c.pruned_architecture else None} for name, c in rows],
            "plot": str(plot_path) if out else None,
        }, indent=2))
        return
    if as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        for name, c in rows:
            writer.writerow({k: v for k, v in row_dict(name, c, bounds).items() if k in CSV_FIELDS})
        return
    console.print(front_table(rows, bounds, show_run=len(results) > 1,
                              title=f"Pareto front of {', '.join(groups)} ({len(rows)} of "
                                    f"{len(everything)} candidates)"))
    console.print(f"bounds: {describe_bounds(bounds)}  ·  {ERROR_NOTE}")
    for name, candidates in groups.items():
        run_hv = hypervolume(candidates, bounds) if bounds.active else 0.0
        stopped = sum(c.status == "stopped" for c in candidates)
        note = f" ({stopped} stopped after their rung)" if stopped else ""
        console.print(f"{name}: {len(candidates)} candidates{note}, hypervolume {run_hv:.4f}, "
                      f"{sum(c.train_seconds for c in candidates):.0f} training-seconds")
        audit = _audit(candidates)
        if audit is not None:
            count, scores = audit
            console.print(f"{name}: the surrogate's predictions of its {count} screened candidates vs their measured "
                          f"validation error: Kendall τ {scores.kendall_tau:.3f}, "
                          f"Spearman ρ {scores.spearman_rho:.3f}, MAE {scores.mae:.4f}")
    if len(groups) > 1:
        console.print(f"all runs together: hypervolume {total_hv:.4f}")
    console.print(f"({HYPERVOLUME_NOTE})")
    if plotted:
        console.print(f"plot: {plot_path}" + (f" and {_progress_path(plot_path)}" if bounds.active else ""))
