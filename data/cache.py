"""On-disk cache of arrays derived from data files (decoded images, audio features).

Decoding is what makes a cold load slow (gunzip, thousands of PNGs, spectrograms); the result
is saved as an uncompressed ``.npz`` keyed by the loader's version and the path, size and
modification time of every source file, so a changed or replaced file is decoded (and checked)
again. The cache is an optimisation only: when it cannot be written, loading still works.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import numpy as np

from munas.data.download import feature_cache_dir

Arrays = dict[str, np.ndarray]
_refresh: ContextVar[bool] = ContextVar("refresh", default=False)


@contextmanager
def refreshed() -> Iterator[None]:
    """Within this block, cached arrays are recomputed from the files (and the cache rewritten).

    ``datasets NAME --verify`` uses it so that verifying reads every file, not the cache.
    """
    token = _refresh.set(True)
    try:
        yield
    finally:
        _refresh.reset(token)


def source_fingerprint(sources: Sequence[Path]) -> list[tuple[str, int, int]]:
    """(absolute path, size, mtime in ns) of each source, the identity the cache key hashes."""
    fingerprint = []
    for path in sources:
        stat = path.stat()
        fingerprint.append((os.path.abspath(path), stat.st_size, stat.st_mtime_ns))
    return fingerprint


def cache_path(name: str, version: int, sources: Sequence[Path]) -> Path:
    """The cache file for ``name`` built by loader ``version`` from exactly these ``sources``."""
    key = json.dumps([name, version, source_fingerprint(sources)])
    return feature_cache_dir() / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:20]}.npz"


def cached_arrays(name: str, version: int, sources: Sequence[Path], compute: Callable[[], Arrays]) -> Arrays:
    """Return ``compute()``, from the cache when these sources were decoded before.

    A cache file that cannot be read is ignored and rewritten. Older cache files of the same
    ``name`` are removed when a new one is written, so the cache holds one entry per data set.
    """
    path = cache_path(name, version, sources)
    if path.exists() and not _refresh.get():
        try:
            with np.load(path, allow_pickle=False) as stored:
                return {key: stored[key] for key in stored.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError):
            pass
    arrays = compute()
    _write(path, arrays)
    for old in path.parent.glob(f"{name}-*.npz"):
        if old != path and old.name.rsplit("-", 1)[0] == name:
            old.unlink(missing_ok=True)
    return arrays


def _write(path: Path, arrays: Arrays) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".npz", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **arrays)  # type: ignore[arg-type]  # numpy stubs read **arrays as allow_pickle
        os.replace(temp_name, path)
    except OSError:
        return
    finally:
        Path(temp_name).unlink(missing_ok=True)
