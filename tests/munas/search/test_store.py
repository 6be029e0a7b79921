import sqlite3
import sys

import numpy as np
import pytest

from munas.search.store import RunStore, StoreError

from .factories import evaluated


def test_round_trip_in_completion_order(tmp_path):
    records = [evaluated(3, (0.1, 10, 20, 30)), evaluated(1, status="nan_loss", parent_id=3),
               evaluated(2, (0.2, 11, 21, 31), parent_id=3, sparsity=None)]
    with RunStore(tmp_path / "c.sqlite") as store:
        for number, record in enumerate(records):
            store.add(record, {"next_id": number})
    with RunStore(tmp_path / "c.sqlite", readonly=True) as store:
        assert store.candidates() == records
        assert store.count() == 3
        assert store.state() == {"next_id": 2}


def test_database_is_in_wal_mode(tmp_path):
    RunStore(tmp_path / "c.sqlite").close()
    with sqlite3.connect(tmp_path / "c.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_rng_state_round_trips_through_the_state_table(tmp_path):
    rng = np.random.default_rng(42)
    rng.uniform(size=5)
    with RunStore(tmp_path / "c.sqlite") as store:
        store.add(evaluated(0), {"rng": rng.bit_generator.state})
        restored = np.random.default_rng(0)
        restored.bit_generator.state = store.state()["rng"]
    assert np.array_equal(restored.uniform(size=10), rng.uniform(size=10))


def test_a_failed_insert_leaves_neither_row_nor_state(tmp_path):
    with RunStore(tmp_path / "c.sqlite") as store:
        store.add(evaluated(0), {"next_id": 1})
        with pytest.raises(sqlite3.IntegrityError):
            store.add(evaluated(0), {"next_id": 99})  # duplicate id: the whole transaction rolls back
        assert store.count() == 1
        assert store.state() == {"next_id": 1}


def test_sql_text_in_values_is_data(tmp_path):
    record = evaluated(0, status="failed")
    record = type(record)(**{**record.__dict__, "message": "x'); DROP TABLE candidates; --"})
    with RunStore(tmp_path / "c.sqlite") as store:
        store.add(record, {"note": "'; DROP TABLE state; --"})
        assert store.candidates()[0].message == record.message
        assert store.state()["note"] == "'; DROP TABLE state; --"


def test_unreadable_files_are_user_errors(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        RunStore(tmp_path / "missing.sqlite", readonly=True)
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="not a readable run database"):
        RunStore(bad)


READ = """
import sys
from munas.search.store import RunStore
with RunStore(sys.argv[1], readonly=True) as store:
    print(len(store.candidates()))
"""


def test_a_finished_store_on_read_only_storage_is_read_without_writing_anything(tmp_path):
    """WAL readers with mode=ro create a -shm file; on a read-only mount that fails, so the
    store must open immutable there (see tests/munas/readonly.py for why a mount, not chmod)."""
    from ..readonly import on_read_only_storage

    with RunStore(tmp_path / "c.sqlite") as store:
        for i in range(3):
            store.add(evaluated(i), {"next_id": i + 1})
    before = sorted(p.name for p in tmp_path.iterdir())
    result = on_read_only_storage(tmp_path, [sys.executable, "-c", READ, str(tmp_path / "c.sqlite")])
    assert result.returncode == 0 and result.stdout.strip() == "3", result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before == ["c.sqlite"]


def test_a_store_with_unmerged_writes_on_read_only_storage_is_refused_not_read_short(tmp_path):
    from ..readonly import on_read_only_storage

    with RunStore(tmp_path / "c.sqlite") as store:  # still open: the last candidates are in c.sqlite-wal
        for i in range(3):
            store.add(evaluated(i), {"next_id": i + 1})
        result = on_read_only_storage(tmp_path, [sys.executable, "-c", READ, str(tmp_path / "c.sqlite")])
    assert result.returncode != 0 and "c.sqlite-wal (the run was not closed cleanly)" in result.stderr


def test_the_reader_opens_any_path_as_a_uri(tmp_path):
    folder = tmp_path / "odd?name#with%signs"
    folder.mkdir()
    with RunStore(folder / "c.sqlite") as store:
        store.add(evaluated(0), {"next_id": 1})
    with RunStore(folder / "c.sqlite", readonly=True) as store:
        assert [c.id for c in store.candidates()] == [0]
