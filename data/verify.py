"""Checks behind ``datasets NAME --verify``: published checksums, then a full load."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from munas.data.download import RemoteFile, read_content, resolve_data_dir
from munas.data.errors import DataError
from munas.data.registry import DatasetSource


@dataclass(frozen=True)
class FileCheck:
    """The outcome for one file: ``ok`` is None when the file is absent but not needed."""

    path: Path
    ok: bool | None
    status: str


def check_file(spec: RemoteFile, data_dir: Path) -> FileCheck:
    """Compare one file's content with its published sha256, without raising."""
    target = data_dir / spec.path
    if not target.exists():
        source = f" (source: {spec.url})" if spec.url else ""
        return FileCheck(target, None, f"not present{source}")
    try:
        digest = hashlib.sha256(read_content(target, spec.gzipped)).hexdigest()
    except DataError as error:
        return FileCheck(target, False, str(error).split(": ", 1)[-1])
    if digest != spec.sha256:
        return FileCheck(target, False, f"sha256 mismatch: {digest[:16]}…, expected {spec.sha256[:16]}…")
    what = "decompressed content" if spec.gzipped else "file"
    return FileCheck(target, True, f"sha256 of the {what} matches")


def check_files(source: DatasetSource, data_dir: str | Path | None = None) -> list[FileCheck]:
    """Checksum checks of every file with a published sha256 of ``source``."""
    root = resolve_data_dir(data_dir)
    return [check_file(spec, root) for spec in source.files]
