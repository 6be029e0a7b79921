import numpy as np
import pytest

from munas.data.cache import cached_arrays, refreshed


@pytest.fixture
def source(tmp_path, monkeypatch):
    monkeypatch.setenv("MUNAS_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "source.bin"
    path.write_bytes(b"one")
    return path


def counting(calls):
    def compute():
        calls.append(1)
        return {"x": np.arange(len(calls) * 3)}
    return compute


def test_second_load_comes_from_the_cache(source, tmp_path):
    calls = []
    first = cached_arrays("thing", 1, [source], counting(calls))
    second = cached_arrays("thing", 1, [source], counting(calls))
    assert len(calls) == 1 and np.array_equal(first["x"], second["x"])
    assert len(list((tmp_path / "cache").glob("thing-*.npz"))) == 1


def test_a_changed_source_or_version_is_decoded_again_and_replaces_the_entry(source, tmp_path):
    calls = []
    cached_arrays("thing", 1, [source], counting(calls))
    source.write_bytes(b"other content")
    assert len(cached_arrays("thing", 1, [source], counting(calls))["x"]) == 6
    cached_arrays("thing", 2, [source], counting(calls))
    assert len(calls) == 3
    assert len(list((tmp_path / "cache").glob("thing-*.npz"))) == 1


def test_a_damaged_cache_file_is_recomputed(source, tmp_path):
    calls = []
    cached_arrays("thing", 1, [source], counting(calls))
    (entry,) = (tmp_path / "cache").glob("thing-*.npz")
    entry.write_bytes(b"garbage")
    assert len(cached_arrays("thing", 1, [source], counting(calls))["x"]) == 6


def test_refreshed_recomputes(source):
    calls = []
    cached_arrays("thing", 1, [source], counting(calls))
    with refreshed():
        cached_arrays("thing", 1, [source], counting(calls))
    assert len(calls) == 2


def test_an_unwritable_cache_still_loads(source, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MUNAS_CACHE_DIR", str(blocker / "cache"))
    calls = []
    assert len(cached_arrays("thing", 1, [source], counting(calls))["x"]) == 3
    assert len(cached_arrays("thing", 1, [source], counting(calls))["x"]) == 6  # recomputed, no error
