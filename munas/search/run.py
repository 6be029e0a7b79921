"""Run directories ``runs/<name>/``: safe names, the exclusive lock, config.json, the log.

A run name becomes a path, so it is checked first: letters, digits, ``.``, ``_`` and ``-``,
starting with a letter or digit, at most 100 characters. That rules out ``..``, ``/`` and
absolute paths, so a name can never escape the runs folder.

The lock is ``fcntl.flock`` on ``runs/<name>/lock``: the kernel releases it when the process
dies, even by SIGKILL, so a crashed search never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from munas.errors import UserError

RUNS_ENV = "MUNAS_RUNS_DIR"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class RunLockedError(UserError):
    """Another process is writing this run."""


def runs_root(explicit: str | Path | None = None) -> Path:
    """Where run directories live: the argument, else ``$MUNAS_RUNS_DIR``, else ``./runs``."""
    return Path(explicit or os.environ.get(RUNS_ENV) or "runs")


def validate_run_name(name: str) -> str:
    """Return ``name`` if it is a safe single path component, else raise a UserError."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise UserError(f"invalid run name {name!r}: use letters, digits, '.', '_' and '-' only "
                        "(start with a letter or digit, no '..', at most 100 characters)")
    return name


def default_run_name(dataset: str, now: datetime | None = None) -> str:
    """``<dataset>-YYYYmmdd-HHMMSS`` (a path data set contributes its file/folder stem)."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", Path(dataset).stem or "dataset").lstrip("._-") or "dataset"
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")
    return validate_run_name(f"{stem[:80]}-{stamp}")


class RunDirectory:
    """One run's folder. Use as a context manager to hold its lock."""

    def __init__(self, name: str, root: str | Path | None = None) -> None:
        self.name = validate_run_name(name)
        self.root = runs_root(root)
        self.path = self.root / self.name
        self._lock_file: Any = None

    @property
    def database(self) -> Path:
        return self.path / "candidates.sqlite"

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def log_path(self) -> Path:
        return self.path / "search.log"

    @property
    def plot_path(self) -> Path:
        return self.path / "pareto.png"

    def exists(self) -> bool:
        return self.config_path.is_file()

    def acquire(self) -> None:
        """Take the run's exclusive lock or fail at once with a one-line error."""
        self.path.mkdir(parents=True, exist_ok=True)
        handle = open(self.path / "lock", "a+")  # noqa: SIM115 - held open as long as the lock is
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise RunLockedError(f"run {self.name!r} is being written by {holder}; wait for it to finish "
                                 "or choose another --run") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._lock_file = handle

    def release(self) -> None:
        if self._lock_file is not None:
            self._lock_file.seek(0)
            self._lock_file.truncate()
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> RunDirectory:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def read_config(self) -> dict[str, Any]:
        try:
            config = json.loads(self.config_path.read_text())
        except FileNotFoundError:
            raise UserError(f"run {self.name!r} does not exist in {self.root}; check --run "
                            "(python cli.py pareto lists nothing for it either)") from None
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
            reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
            raise UserError(f"{self.config_path} is not valid JSON ({reason}); the run cannot be read") from None
        if not isinstance(config, dict):
            raise UserError(f"{self.config_path} holds a JSON {type(config).__name__}, not the object munas search "
                            "writes; the run cannot be read")
        return config

    def discard(self) -> None:
        """Remove a run that stored no candidate, so that its name can be used again.

        Only the files a search writes go, config.json first (it is what makes the run
        exist); the folder goes only if that empties it.
        """
        for name in ("config.json", "config.json.tmp", "candidates.sqlite", "candidates.sqlite-wal",
                     "candidates.sqlite-shm", "search.log", "lock"):
            (self.path / name).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.path.rmdir()

    def write_config(self, config: dict[str, Any]) -> None:
        """Write config.json atomically (a crash never leaves half a file)."""
        self.path.mkdir(parents=True, exist_ok=True)
        temporary = self.config_path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        os.replace(temporary, self.config_path)

    def logger(self) -> logging.Logger:
        """A logger appending to ``search.log`` (one per run; handlers are not duplicated)."""
        logger = logging.getLogger(f"munas.search.run.{self.name}")
        logger.setLevel(logging.INFO)
        logger.propagate = False
        target = str(self.log_path.resolve())
        if not any(getattr(h, "baseFilename", None) == target for h in logger.handlers):
            handler = logging.FileHandler(target)
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            logger.addHandler(handler)
        return logger

    def close_logger(self) -> None:
        logger = logging.getLogger(f"munas.search.run.{self.name}")
        for handler in list(logger.handlers):
            handler.close()
            logger.removeHandler(handler)


def list_runs(root: str | Path | None = None) -> list[RunDirectory]:
    """Every run directory (with a config.json) under the runs folder, by name."""
    base = runs_root(root)
    if not base.is_dir():
        return []
    runs = []
    for child in sorted(base.iterdir()):
        if child.is_dir() and _NAME.match(child.name) and (child / "config.json").is_file():
            runs.append(RunDirectory(child.name, base))
    return runs
