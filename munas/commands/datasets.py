"""``datasets``: which data sets exist, whether they are on disk, and a full check of one.

:mod:`munas.data` is imported by the command, not by this module: the CLI imports every
command module to build its help, and that must not load a data stack.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table
from rich.text import Text

from munas.commands.output import console

if TYPE_CHECKING:
    from munas.data.dataset import Dataset
    from munas.data.registry import DatasetSource


def _present(source: DatasetSource, data_dir: Path | None) -> str:
    if not source.requires:
        return "built in"
    return "yes" if source.is_present(data_dir) else "no"


def _overview(sources: list[DatasetSource], data_dir: Path | None) -> None:
    table = Table("name", "present", "input h×w×c", "classes", "looks in")
    table.columns[0].no_wrap = True
    table.columns[4].overflow = "fold"
    for source in sources:
        table.add_row(source.name, _present(source, data_dir), "×".join(map(str, source.input_shape)),
                      str(source.num_classes), source.location(data_dir))
    console.print(table)
    if len(sources) == 1:
        console.print(sources[0].description, soft_wrap=True)


def _splits(dataset: Dataset) -> None:
    table = Table("split", "samples", "x (n, c, h, w)", "labels")
    for split in ("train", "val", "test"):
        x, y = getattr(dataset, f"x_{split}"), getattr(dataset, f"y_{split}")
        labels = f"{int(y.min())}..{int(y.max())}, {len(y.unique())} classes" if len(y) else "-"
        table.add_row(split, f"{len(y):,}", str(tuple(x.shape)), labels)
    console.print(table)


def verdict(name: str, dataset: Dataset, failures: int) -> Text:
    """The last line of ``--verify``: VERIFIED or UNVERIFIED, in capitals, and why."""
    from munas.data.registry import list_datasets

    if failures or dataset.unverified:
        reason = f"{failures} file(s) failed their checksum" if failures else dataset.unverified
        return Text.assemble(("UNVERIFIED", "bold white on red"), f" {dataset.name}: {reason}; results on it are "
                             "not comparable with the canonical release's")
    if name not in list_datasets():
        return Text.assemble(("USER DATA", "bold"), f" {dataset.name}: loaded and checked (dtypes, labels, splits); "
                             "there is no published release to verify it against")
    return Text.assemble(("VERIFIED", "bold green"), f" {dataset.name}: the canonical release (published checksums, "
                         "the built-in copy or the release's exact file count; every file decoded)")


def datasets_command(
    name: str | None = typer.Argument(None, help="A data set name, or a path to an .npz / image folder."),
    verify: bool = typer.Option(False, "--verify", help="Check published checksums, load it, print split sizes."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Data folder (default $MUNAS_DATA_DIR, "
                                            "else the user cache dir)."),
) -> None:
    """List the data sets (present?, shapes, classes, where they are looked for), or verify one."""
    from munas.data.cache import refreshed
    from munas.data.registry import get_source, list_datasets, load_dataset
    from munas.data.verify import check_files

    if name is None or (not verify and name in list_datasets()):
        _overview([get_source(n) for n in (list_datasets() if name is None else [name])], data_dir)
        return
    checks = check_files(get_source(name), data_dir) if name in list_datasets() else []
    # Loading downloads what is missing (and checks it), so report the files after the load.
    with refreshed():
        dataset = load_dataset(name, data_dir=data_dir)
    if any(check.ok is None for check in checks):
        checks = check_files(get_source(name), data_dir)
    for check in checks:
        mark = {True: "[green]ok[/]", False: "[red]FAILED[/]", None: "[dim]-[/]"}[check.ok]
        console.print(f"{mark} {check.path}: {check.status}", highlight=False, soft_wrap=True)
    if not checks:
        console.print(f"{name}: no published per-file checksums; every file was decoded and checked while loading",
                      highlight=False, soft_wrap=True)
    console.print(f"[bold]{dataset.name}[/]: input {dataset.input_shape}, {dataset.num_classes} classes",
                  highlight=False)
    _splits(dataset)
    if dataset.notes:
        console.print(f"notes: {dataset.notes}", highlight=False, soft_wrap=True)
    failures = sum(check.ok is False for check in checks)
    console.print(verdict(name, dataset, failures), highlight=False, soft_wrap=True)
    if failures:
        console.print(f"[red]{failures} file(s) failed their checksum[/]")
        raise typer.Exit(1)
