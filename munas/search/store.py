"""The run store: every finished candidate of a run in one SQLite file, crash-safe.

The database is in WAL mode with ``synchronous=FULL``, and each finished candidate is ONE
transaction that inserts its row and the loop's state after it (the RNG state and the next
candidate id). So a SIGKILL at any moment leaves either the whole record or none of it,
and ``--resume`` restarts from exactly the state that produced the last stored candidate
(spec quirk 22: the reference saved only every 5th result and no RNG state). Readers (the
``pareto`` command) can open the file while a search writes it, and a finished run on
read-only storage can still be read (:func:`_read_only_uri`). Only bound parameters are used
in SQL.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from munas.errors import UserError
from munas.search.candidates import EvaluatedCandidate
from munas.space.architecture import ArchitectureError, parse_architecture

SCHEMA_VERSION = 1
_COLUMNS = ("id", "parent_id", "status", "message", "architecture", "sparsity", "pruned_architecture", "val_error",
            "test_error", "int8_test_error", "pmu", "model_size", "macs", "train_seconds", "epochs",
            "predicted_error", "predicted_error_std", "submitted_at", "finished_at")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS candidates (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,   -- completion order
    id INTEGER NOT NULL UNIQUE,              -- candidate id, assigned when proposed
    parent_id INTEGER,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    architecture TEXT NOT NULL,
    sparsity REAL,
    pruned_architecture TEXT,
    val_error REAL,
    test_error REAL,
    int8_test_error REAL,
    pmu INTEGER,
    model_size INTEGER,
    macs INTEGER,
    train_seconds REAL NOT NULL,
    epochs INTEGER,
    predicted_error REAL,
    predicted_error_std REAL,
    submitted_at TEXT NOT NULL,
    finished_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rungs (          -- multi-fidelity: promoted rungs whose continuation is not stored yet
    id INTEGER PRIMARY KEY,                 -- candidate id
    proposal TEXT NOT NULL,                 -- JSON: architecture, sparsity, parent, predictions, proxies, submitted_at
    curve TEXT NOT NULL,                    -- JSON: validation error after each rung epoch
    rung_seconds REAL NOT NULL,
    state BLOB NOT NULL                     -- the trainer's serialised TrainingState
);
"""
_ADDED_COLUMNS = {"curve": "TEXT", "rung_seconds": "REAL", "proxies": "TEXT", "estimated_error": "REAL"}
"""Candidate columns added after schema version 1 (multi-fidelity, zero-cost proxies). A store
written before them gets them by ``ALTER TABLE`` when opened for writing (NULL in old rows),
and a read-only reader of such a store reads them as missing, so the version stays 1."""


_WEIGHTS_SCHEMA = "CREATE TABLE IF NOT EXISTS weights (id INTEGER PRIMARY KEY, data BLOB NOT NULL)"


class StoreError(UserError):
    """The run database cannot be read (corrupt, or from another version)."""


class RunStore:
    """Append-only store of evaluated candidates plus the loop state that goes with them."""

    def __init__(self, path: str | Path, readonly: bool = False) -> None:
        self.path = Path(path)
        try:
            if readonly:
                if not self.path.is_file():
                    raise StoreError(f"{self.path} does not exist; the run has no results yet")
                self._db = sqlite3.connect(_read_only_uri(self.path), uri=True)
                version = self._db.execute("PRAGMA user_version").fetchone()[0]  # a file that is no database fails here
                if version > SCHEMA_VERSION:
                    raise StoreError(f"{self.path} has schema version {version}, newer than this munas reads "
                                     f"({SCHEMA_VERSION}); read it with the munas version that wrote it")
            else:
                self._db = sqlite3.connect(self.path, isolation_level=None)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.executescript(_SCHEMA)
                present = self._candidate_columns()
                for name, kind in _ADDED_COLUMNS.items():
                    if name not in present:
                        self._db.execute(f"ALTER TABLE candidates ADD COLUMN {name} {kind}")
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
                if version == 0:
                    self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                elif version != SCHEMA_VERSION:
                    raise StoreError(f"{self.path} has schema version {version}, expected {SCHEMA_VERSION}")
            self._db.execute("PRAGMA busy_timeout=10000")
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{self.path} is not a readable run database ({error})") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _candidate_columns(self) -> set[str]:
        return {row[1] for row in self._db.execute("PRAGMA table_info(candidates)")}

    def add(self, candidate: EvaluatedCandidate, state: dict[str, Any]) -> None:
        """Store one finished candidate and the loop state after it, atomically (and drop its
        promoted rung, if it had one: the continuation's record replaces it)."""
        columns = _COLUMNS + tuple(_ADDED_COLUMNS)
        row = _to_row(candidate)
        placeholders = ", ".join("?" for _ in columns)
        with self._transaction() as db:
            db.execute(f"INSERT INTO candidates ({', '.join(columns)}) VALUES ({placeholders})", row)
            db.execute("DELETE FROM rungs WHERE id = ?", (candidate.id,))
            _write_state(db, state)

    def add_promoted_rung(self, rung: PromotedRung, state: dict[str, Any]) -> None:
        """Keep a promoted rung (and the loop state after the promotion) until its continuation
        is stored, so ``--resume`` continues it instead of training the rung again."""
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO rungs (id, proposal, curve, rung_seconds, state) VALUES (?, ?, ?, ?, ?)",
                       (rung.id, json.dumps(rung.proposal), json.dumps(list(rung.curve)), rung.rung_seconds,
                        rung.state))
            _write_state(db, state)

    def promoted_rungs(self) -> list[PromotedRung]:
        """Promoted rungs whose continuation has not been stored, by id."""
        rows = self._db.execute("SELECT id, proposal, curve, rung_seconds, state FROM rungs ORDER BY id").fetchall()
        return [PromotedRung(i, json.loads(p), tuple(json.loads(c)), s, bytes(b)) for i, p, c, s, b in rows]

    def candidates(self) -> list[EvaluatedCandidate]:
        """Every stored candidate, in completion order."""
        try:
            columns = _COLUMNS + tuple(c for c in _ADDED_COLUMNS if c in self._candidate_columns())
            rows = self._db.execute(f"SELECT {', '.join(columns)} FROM candidates ORDER BY seq").fetchall()
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{self.path} cannot be read ({error})") from None
        return [_from_row(dict(zip(columns, row)), self.path) for row in rows]

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM candidates").fetchone()[0])

    def add_weights(self, candidate_id: int, weights: bytes) -> None:
        """Keep the trained weights of a finished candidate (``torch.save`` bytes of its pruned
        network's ``state_dict``) for ``export``. Their own table, created on first use, so old
        stores and readers that never ask for weights are untouched. Written just before the
        candidate's row: a crash in between leaves weights without a row, which ``--resume``
        overwrites when it trains that candidate again."""
        with self._transaction() as db:
            db.execute(_WEIGHTS_SCHEMA)
            db.execute("INSERT OR REPLACE INTO weights (id, data) VALUES (?, ?)", (candidate_id, weights))

    def weights(self, candidate_id: int) -> bytes | None:
        """The stored weights of a candidate, or None (failed, or a run made before weights were kept)."""
        try:
            row = self._db.execute("SELECT data FROM weights WHERE id = ?", (candidate_id,)).fetchone()
        except sqlite3.OperationalError:  # no weights table: the run predates stored weights
            return None
        return None if row is None else bytes(row[0])

    def state(self) -> dict[str, Any]:
        rows = self._db.execute("SELECT key, value FROM state").fetchall()
        return {key: json.loads(value) for key, value in rows}


@dataclass(frozen=True)
class PromotedRung:
    """A rung the search promoted, stored until its continuation finishes. ``proposal`` is the
    JSON form of the proposed candidate (:func:`munas.search.fidelity.proposal_to_json`)."""

    id: int
    proposal: dict[str, Any]
    curve: tuple[float, ...]
    rung_seconds: float
    state: bytes


def _write_state(db: sqlite3.Connection, state: dict[str, Any]) -> None:
    db.executemany("INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                   [(key, json.dumps(value)) for key, value in state.items()])


def _read_only_uri(path: Path) -> str:
    """The URI that reads ``path`` without writing anything, wherever it lives.

    ``mode=ro`` still needs the folder writable: a WAL-mode reader creates the ``-shm`` index
    next to the file. On read-only storage (a finished run on a read-only mount or share)
    nothing can write the file, so it is opened ``immutable=1``, which reads the file alone
    and creates nothing. That would silently miss candidates still in a ``-wal`` file (a
    killed run copied as it was), so such a store is refused instead.
    """
    uri = f"file:{quote(str(path.resolve()))}"
    if os.access(path.parent, os.W_OK):
        return f"{uri}?mode=ro"
    wal = path.with_name(path.name + "-wal")
    if wal.is_file() and wal.stat().st_size > 0:
        raise StoreError(f"{path} is on read-only storage with candidates still in {wal.name} (the run was not "
                         "closed cleanly); copy the run folder to writable storage to read it")
    return f"{uri}?immutable=1"


def _json_or_none(architecture: Any) -> str | None:
    return None if architecture is None else architecture.to_json(sort_keys=True)


def _to_row(c: EvaluatedCandidate) -> tuple:
    return (c.id, c.parent_id, c.status, c.message, _json_or_none(c.architecture), c.sparsity,
            _json_or_none(c.pruned_architecture), c.val_error, c.test_error, c.int8_test_error, c.pmu,
            c.model_size, c.macs, c.train_seconds, c.epochs, c.predicted_error, c.predicted_error_std,
            c.submitted_at, c.finished_at, json.dumps(list(c.curve)), c.rung_seconds,
            None if c.proxies is None else json.dumps(dict(c.proxies)), c.estimated_error)


_NUMBER_COLUMNS = ("parent_id", "sparsity", "val_error", "test_error", "int8_test_error", "pmu", "model_size", "macs",
                   "train_seconds", "epochs", "predicted_error", "predicted_error_std", "rung_seconds",
                   "estimated_error")
_MEASURED = ("val_error", "pmu", "model_size", "macs")


def _check_values(values: dict[str, Any], path: Path) -> None:
    """SQLite keeps any value in any column: a damaged or edited row is a StoreError, not a crash later."""
    where = f"{path}: candidate {values['id']}"
    for name in _NUMBER_COLUMNS:
        value = values.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise StoreError(f"{where} has {name} = {value!r:.40}, not a number; the store was damaged or edited")
    if not isinstance(values["status"], str) or not isinstance(values["message"], str):
        raise StoreError(f"{where} has no readable status; the store was damaged or edited")
    if values["status"] == "ok" and any(values[name] is None for name in _MEASURED):
        raise StoreError(f"{where} is 'ok' but lacks a measurement; the store was damaged or edited")


def _from_row(values: dict[str, Any], path: Path) -> EvaluatedCandidate:
    _check_values(values, path)
    try:
        curve = values.pop("curve", None)
        values["curve"] = () if curve is None else tuple(json.loads(curve))
        proxies = values.pop("proxies", None)
        values["proxies"] = None if proxies is None else json.loads(proxies)
        values["architecture"] = parse_architecture(json.loads(values["architecture"]))
        if values["pruned_architecture"] is not None:
            values["pruned_architecture"] = parse_architecture(json.loads(values["pruned_architecture"]))
    except (ArchitectureError, ValueError, TypeError, RecursionError) as error:
        raise StoreError(f"{path}: candidate {values['id']} has an unreadable architecture or record "
                         f"({error.__class__.__name__}: {error})") from None
    return EvaluatedCandidate(**values)
