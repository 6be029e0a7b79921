"""``munas export RUN CANDIDATE --format tflite|onnx|c``: deploy a found network."""

from __future__ import annotations

from pathlib import Path

import typer

from munas.commands.output import console, report_warning
from munas.commands.pareto import bound_overrides
from munas.errors import UserError
from munas.search.fitness import Bounds
from munas.search.results import load_results, select_runs
from munas.search.run import runs_root


def export_command(
    run: str = typer.Argument(..., help="Run name (a folder of the runs folder)."),
    candidate: str = typer.Argument(..., help="Candidate id, or 'best' (lowest validation error within the bounds)."),
    fmt: str = typer.Option("tflite", "--format", help="tflite (int8, munas's operator order), onnx (float and "
                                                       "int8 QDQ) or c (the .tflite as model_data.h/.c)."),
    out: str | None = typer.Option(None, "--out", help="Output folder (default: RUN/export-CANDIDATE-FORMAT)."),
    error: str | None = typer.Option(None, "--error", help="With best: error bound (default: the run's)."),
    pmu: str | None = typer.Option(None, "--pmu", help="With best: peak-memory bound, e.g. 64KB."),
    size: str | None = typer.Option(None, "--size", help="With best: model-size bound, e.g. 64KB."),
    macs: str | None = typer.Option(None, "--macs", help="With best: MACs bound, e.g. 30M."),
    runs_dir: str | None = typer.Option(None, "--runs-dir", help="Runs folder (default $MUNAS_RUNS_DIR or ./runs)."),
) -> None:
    """Export a trained candidate of a run to int8 TFLite, ONNX or a C array, checked on the test split."""
    from munas.deploy import FORMATS, require

    if fmt not in FORMATS:
        raise UserError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    (results,) = load_results(select_runs([run], None, runs_root(runs_dir)))
    given, dropped = bound_overrides(error, pmu, size, macs)
    values = results.config.bounds.as_dict() | given
    bounds = Bounds.from_dict({k: (None if k in dropped else v) for k, v in values.items()})
    from munas.deploy.export import choose, export_candidate, stored_network

    chosen = choose(results, candidate, bounds)
    network = stored_network(results, chosen)
    for module in (("onnx", "onnxruntime", "onnxscript") if fmt == "onnx" else
                   ("tflite_micro", "ai_edge_litert", "litert_torch")):
        require(module)
    from munas.search.evaluation import load_cached_dataset

    dataset = load_cached_dataset(results.config.dataset, results.config.data_dir)
    folder = Path(out) if out else results.run.path / f"export-{chosen.id}-{fmt}"
    exported = export_candidate(results, chosen, network, fmt, folder, dataset)
    for key, value in exported.report.items():
        console.print(f"{key}: {value}", markup=False, highlight=False)
    if exported.report.get("tflm_litert_label_disagreements"):
        report_warning(f"TFLite Micro and LiteRT predict differently on "
                       f"{exported.report['tflm_litert_label_disagreements']} test images")
