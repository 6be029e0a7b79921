"""Where data files live, and how a missing one is fetched and checked.

Files live in one data directory: the ``data_dir`` argument, else ``MUNAS_DATA_DIR``, else a
per-user cache directory. A file with a known HTTPS source is downloaded once, written to a
temporary file next to its target, checked against its sha256 and only then renamed into place,
so an interrupted or corrupt download never leaves a file that looks valid. A file already in
place is never downloaded again; one that fails its checksum is reported, never used.

Gzipped files are checked by the sha256 of their *decompressed* content: some distributions
recompress the originals, which changes the ``.gz`` bytes but not the content.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import platformdirs

from munas.data.errors import DataError
from munas.data.progress import progress

DATA_DIR_ENV = "MUNAS_DATA_DIR"
CACHE_DIR_ENV = "MUNAS_CACHE_DIR"

Fetcher = Callable[[str, BinaryIO], None]
"""Writes the body found at a URL into an open binary file; raises ``OSError`` on failure."""


def resolve_data_dir(data_dir: str | Path | None = None) -> Path:
    """The data directory: the argument, else ``$MUNAS_DATA_DIR``, else the user cache dir."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV]).expanduser()
    return Path(platformdirs.user_cache_dir("munas")) / "data"


def feature_cache_dir() -> Path:
    """Where derived arrays (decoded images, spectrogram features) are cached.

    Kept apart from the data directory, which may be a read-only shared copy:
    ``$MUNAS_CACHE_DIR``, else ``features/`` in the user cache dir.
    """
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).expanduser()
    return Path(platformdirs.user_cache_dir("munas")) / "features"


@dataclass(frozen=True)
class RemoteFile:
    """One data file: where it goes, what its content hashes to, and where it can be fetched.

    ``path`` is relative to the data directory. ``sha256`` is of the decompressed content when
    ``gzipped`` is true, else of the file bytes. ``url`` is None for files with no known HTTPS
    source; the user then places the file by hand.
    """

    path: str
    sha256: str
    url: str | None = None
    gzipped: bool = False

    def __post_init__(self) -> None:
        if self.url is not None and not self.url.startswith("https://"):
            raise ValueError(f"{self.path}: only https:// sources are allowed, got {self.url}")


def https_fetch(url: str, out: BinaryIO) -> None:
    """Default fetcher: stream ``url`` into ``out`` over HTTPS, with a progress bar."""
    if not url.startswith("https://"):
        raise OSError(f"refusing non-HTTPS URL {url}")
    with urllib.request.urlopen(url, timeout=60) as response:
        size = int(response.headers.get("Content-Length") or 0) or None
        with progress(f"downloading {url.rsplit('/', 1)[-1]}", total=size) as advance:
            while chunk := response.read(1 << 20):
                out.write(chunk)
                advance(len(chunk))


def read_content(path: Path, gzipped: bool) -> bytes:
    """The file's content, decompressed when ``gzipped``; a damaged gzip stream is a DataError."""
    raw = path.read_bytes()
    if not gzipped:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:
        raise DataError(f"{path}: not a complete gzip file ({error}); the file is truncated or damaged, "
                        "replace it with the original") from error


def _replace_hint(spec: RemoteFile, target: Path) -> str:
    if spec.url:
        return f"delete it to download it again from {spec.url}, or put the original file at {target}"
    return f"put the original file at {target}"


def read_verified(
    spec: RemoteFile,
    data_dir: Path,
    *,
    download: bool = True,
    fetch: Fetcher | None = None,
) -> bytes:
    """Return the checked content of ``spec``, downloading the file first if it is missing.

    The content is hashed on every read (the decompressed bytes are needed anyway), so a file
    that was damaged after download is caught. Raises :class:`DataError` when the file is
    missing and cannot be downloaded, or when its content does not match ``spec.sha256``.
    """
    target = data_dir / spec.path
    if not target.exists():
        if not download or spec.url is None:
            source = f" (download it from {spec.url})" if spec.url else ""
            raise DataError(f"{target} is missing: put the file there{source}, "
                            f"or point --data-dir / ${DATA_DIR_ENV} at the folder that holds it")
        return _download(spec, spec.url, target, fetch or https_fetch)
    content = read_content(target, spec.gzipped)
    digest = hashlib.sha256(content).hexdigest()
    if digest != spec.sha256:
        what = "decompressed content" if spec.gzipped else "file"
        raise DataError(f"{target}: sha256 of the {what} is {digest[:16]}…, expected {spec.sha256[:16]}…; "
                        f"the file is damaged or not the original: {_replace_hint(spec, target)}")
    return content


def _download(spec: RemoteFile, url: str, target: Path, fetch: Fetcher) -> bytes:
    """Fetch into a temporary file beside ``target``, check it, then rename it into place."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as error:
        raise DataError(f"cannot write to {target.parent} ({error.strerror or error}); "
                        f"choose a writable folder with --data-dir or ${DATA_DIR_ENV}") from error
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            try:
                fetch(url, out)
            except OSError as error:
                raise DataError(f"could not download {spec.url} ({error}); download it by hand "
                                f"and put it at {target}") from error
        try:
            content = read_content(temp, spec.gzipped)
        except DataError as error:
            raise DataError(f"download of {spec.url} is not a complete gzip file and was discarded; "
                            f"try again, or put the original file at {target}") from error
        digest = hashlib.sha256(content).hexdigest()
        if digest != spec.sha256:
            raise DataError(f"download of {spec.url} failed its checksum (sha256 {digest[:16]}…, expected "
                            f"{spec.sha256[:16]}…) and was discarded; try again, or put the original file at {target}")
        os.replace(temp, target)
        return content
    finally:
        temp.unlink(missing_ok=True)


def extract_tar_members(archive: bytes, members: dict[str, Path], where: str) -> list[Path]:
    """Write the named regular-file ``members`` of a (gzipped) tar ``archive`` to their paths.

    Only the listed names are extracted, each to the path it maps to, so a crafted archive
    cannot write anywhere else (no ``../`` or absolute names, no links). Each file is written
    atomically. Returns the paths written; members absent from the archive are skipped.
    """
    import io
    import tarfile

    written = []
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tar:
            for member in tar:
                target = members.get(member.name)
                if target is None or not member.isfile():
                    continue
                source = tar.extractfile(member)
                assert source is not None  # regular files always have a stream
                target.parent.mkdir(parents=True, exist_ok=True)
                handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
                try:
                    with os.fdopen(handle, "wb") as out:
                        while chunk := source.read(1 << 20):
                            out.write(chunk)
                    os.replace(temp_name, target)
                finally:
                    Path(temp_name).unlink(missing_ok=True)
                written.append(target)
    except (tarfile.TarError, EOFError, zlib.error) as error:
        raise DataError(f"{where}: not a readable tar archive ({error}); delete it and try again") from error
    return written
