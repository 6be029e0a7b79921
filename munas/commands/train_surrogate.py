"""``train-surrogate``: fit the GNN surrogate on every evaluated candidate of past runs.

It first estimates how well the surrogate predicts candidates it has not seen (k-fold
cross-validation: Kendall τ, Spearman ρ, MAE), then fits the ensemble on all candidates and
saves it, so that a search can start with it already trained.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from munas.commands.output import console, report_warning
from munas.errors import UserError
from munas.search.run import runs_root

MIN_CANDIDATES = 10
"""Fewer candidates cannot support a held-out estimate nor a useful fit."""


def default_output(dataset: str, root: str | Path | None) -> Path:
    return runs_root(root) / f"surrogate-{dataset}.pt"


def train_surrogate_command(
    dataset: str | None = typer.Option(None, "--dataset", help="Use every run of this data set."),
    run: list[str] | None = typer.Option(None, "--run", help="Use this run (repeat for several)."),
    out: str | None = typer.Option(None, "--out", help="Model file (default <runs folder>/surrogate-<dataset>.pt)."),
    folds: int = typer.Option(5, "--folds", help="Cross-validation folds for the held-out scores."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the fits."),
    runs_dir: str | None = typer.Option(None, "--runs-dir", help="Runs folder (default $MUNAS_RUNS_DIR or ./runs)."),
) -> None:
    """Train the GNN surrogate on evaluated candidates; report held-out Kendall τ, Spearman ρ, MAE; save it."""
    from munas.search.results import read_selection
    from munas.surrogate.persistence import save_ensemble
    from munas.surrogate.samples import encode_samples, samples_from_results
    from munas.surrogate.training import TrainingConfig, cross_validate, fit_ensemble

    if folds < 2:
        raise UserError(f"--folds must be at least 2, got {folds}")
    runs = read_selection(run, dataset, runs_dir, warn=report_warning)
    samples = samples_from_results(runs)
    names = ", ".join(r.name for r in runs)
    needed = max(MIN_CANDIDATES, folds)
    if len(samples) < needed:
        raise UserError(f"only {len(samples)} successfully trained candidates in {names} (need at least {needed}); "
                        "let the search run longer or add runs with --run")
    task = samples[0].dataset
    path = Path(out) if out else default_output(task, runs_dir)
    if path.parent.is_dir() and not os.access(path.parent, os.W_OK):  # say so before minutes of training
        raise UserError(f"cannot save the surrogate in {path.parent}: it is read-only; give --out FILE elsewhere")
    graphs = encode_samples(samples)
    errors = np.array([s.val_error for s in samples])
    config = TrainingConfig()
    rng = np.random.default_rng(seed)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        cv_task = progress.add_task(f"{folds}-fold cross-validation", total=folds)
        validation = cross_validate(graphs, errors, folds, config, rng,
                                    on_fold_done=lambda _: progress.advance(cv_task))
        fit_task = progress.add_task("final fit on all candidates", total=config.members)
        ensemble = fit_ensemble(graphs, errors, config, rng, on_member_done=lambda _: progress.advance(fit_task))
    scores = validation.scores
    save_ensemble(ensemble, path, metadata={
        "dataset": task, "runs": [r.name for r in runs], "candidates": len(samples), "folds": folds, "seed": seed,
        "cross_validation": scores.as_dict(), "training": config.as_dict(),
    })
    table = Table("data set", "candidates", "runs", f"Kendall τ ({folds}-fold)", "Spearman ρ", "MAE",
                  title="Surrogate, held-out predictions of validation error")
    table.add_row(task, str(len(samples)), str(len(runs)), f"{scores.kendall_tau:.3f}", f"{scores.spearman_rho:.3f}",
                  f"{scores.mae:.4f}")
    console.print(table)
    console.print(f"saved: {path}")
