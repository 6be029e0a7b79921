"""``train``: train, prune and int8-evaluate one architecture on a data set."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from munas.commands.output import console, report_error
from munas.commands.units import format_bytes, format_count
from munas.errors import UserError
from munas.resources import TRAINED, compute_resources
from munas.space.architecture import load_architecture
from munas.training.presets import with_epochs

if TYPE_CHECKING:
    from munas.training.trainer import TrainResult


def _summary(result: TrainResult, original) -> dict:
    return {
        "status": result.status, "message": result.message, "val_error": result.val_error,
        "test_error": result.test_error, "int8_test_error": result.int8_test_error, "sparsity": result.sparsity,
        "epochs": result.epochs, "train_seconds": round(result.train_seconds, 3),
        "resources": None if result.resources is None else {
            k: v for k, v in result.resources.as_dict().items() if k != "schedule"},
        "original_resources": {k: v for k, v in original.as_dict().items() if k != "schedule"},
        "pruned_architecture": None if result.pruned_architecture is None else result.pruned_architecture.to_dict(),
    }


def _table(result: TrainResult, original) -> Table:
    table = Table("", "value", show_header=False)
    table.add_row("validation error", f"{result.val_error:.4f}")
    table.add_row("test error (float)", f"{result.test_error:.4f}")
    table.add_row("test error (int8)", f"{result.int8_test_error:.4f}")
    table.add_row("sparsity", "none" if result.sparsity is None else f"{result.sparsity:g}")
    for label, key, fmt in (("PMU", "pmu", format_bytes), ("model size", "model_size", format_bytes),
                            ("MACs", "macs", format_count)):
        before, after = getattr(original, key), getattr(result.resources, key)
        table.add_row(label, fmt(after) if before == after else f"{fmt(after)} (from {fmt(before)})")
    table.add_row("training time", f"{result.train_seconds:.1f} s ({result.epochs} epochs)")
    return table


def train_command(
    architecture_file: str = typer.Argument(..., metavar="ARCH.json", help="Architecture document to train."),
    dataset: str = typer.Option("digits", "--dataset", "-d", help="Built-in data set, .npz file or image folder."),
    sparsity: float | None = typer.Option(None, "--sparsity", "-s", help="Structured pruning target in [0, 1)."),
    epochs: int | None = typer.Option(None, "--epochs", "-e", help="Override the preset's epochs (schedule scales)."),
    seed: int = typer.Option(0, "--seed", help="Random seed (initialisation, shuffling, augmentation)."),
    data_dir: str | None = typer.Option(None, "--data-dir", help="Data set cache (default $MUNAS_DATA_DIR)."),
    device: str | None = typer.Option(None, "--device", help="cpu, cuda or cuda:N (default: cuda if available)."),
    threads: int | None = typer.Option(None, "--threads", help="CPU threads for training (default 1)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
    save: str | None = typer.Option(None, "--save", help="Folder for weights.pt, architecture.json, result.json."),
) -> None:
    """Train one architecture (pruned to --sparsity) and report float and int8 errors and resources."""
    architecture = load_architecture(architecture_file)
    if sparsity is not None and not 0 <= sparsity < 1:
        raise UserError(f"--sparsity must be in [0, 1), got {sparsity}")
    if threads is not None and threads < 1:
        raise UserError(f"--threads must be at least 1, got {threads}")
    from munas.data import load_dataset, search_defaults
    from munas.training.checkpoint import save_trained
    from munas.training.trainer import train_candidate

    data = load_dataset(dataset, data_dir)
    if tuple(architecture.input_shape) != data.input_shape or architecture.num_classes != data.num_classes:
        raise UserError(f"{architecture_file} is for input {list(architecture.input_shape)} with "
                        f"{architecture.num_classes} classes, but {data.name!r} has {list(data.input_shape)} with "
                        f"{data.num_classes}; edit input_shape/num_classes or pick the matching --dataset")
    config = search_defaults(dataset).preset
    if epochs is not None:
        config = with_epochs(config, epochs)
    config.validate()
    original = compute_resources(architecture, TRAINED)

    progress_console = Console(stderr=True) if as_json else console
    with Progress(TextColumn("training"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                  TimeElapsedColumn(), console=progress_console, transient=True) as progress:
        task = progress.add_task("train", total=config.epochs, info="")

        def on_epoch(done: int, total: int, val_accuracy: float) -> None:
            progress.update(task, completed=done, info=f"val acc {val_accuracy:.4f}")

        result = train_candidate(architecture, data, config, sparsity=sparsity, seed=seed, device=device,
                                 on_epoch=on_epoch, threads=threads)
    summary = _summary(result, original)
    if as_json:
        print(json.dumps(summary), flush=True)
    if result.status != "ok":
        report_error(f"training ended with status {result.status}: {result.message}")
        raise typer.Exit(1)
    if not as_json:
        console.print(f"{data.name}: {data.split_sizes[0]} train / {data.split_sizes[1]} val / "
                      f"{data.split_sizes[2]} test images{'; ' + data.notes if data.notes else ''}")
        console.print(_table(result, original))
    if save is not None:
        assert result.pruned_architecture is not None and result.weights is not None  # status ok
        folder = save_trained(save, result.pruned_architecture, result.weights, summary)
        if not as_json:
            console.print(f"saved weights and pruned architecture to {folder}")
