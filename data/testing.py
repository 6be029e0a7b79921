"""Test helper: load a real data set from ``$MUNAS_DATA_DIR`` or skip (or fail) the test.

Tests that depend on real data call :func:`load_real_dataset`. Where the data is absent the
test is skipped on a developer machine, but fails when ``MUNAS_REQUIRE_DATA=1`` or ``CI`` is
set, so a CI run cannot pass by skipping everything.
"""

from __future__ import annotations

import os

from data.dataset import Dataset
from data.download import DATA_DIR_ENV
from data.registry import get_source, load_dataset


def data_required() -> bool:
    """Whether a missing data set must fail the test instead of skipping it."""
    return os.environ.get("MUNAS_REQUIRE_DATA") == "1" or bool(os.environ.get("CI"))


def load_real_dataset(name: str) -> Dataset:
    """Load the built-in data set ``name`` from ``$MUNAS_DATA_DIR``, never downloading.

    A set that is not present skips the test (or fails it, see :func:`data_required`); a set
    that is present but broken raises its :class:`DataError`, failing the test.
    """
    import pytest

    source = get_source(name)
    if source.requires and not os.environ.get(DATA_DIR_ENV):
        reason = f"{DATA_DIR_ENV} is not set; point it at the real data sets to run this test"
    elif not source.is_present():
        reason = f"data set {name!r} is not present in {source.location()}"
    else:
        return load_dataset(name, download=False)
    if data_required():
        pytest.fail(reason)
    pytest.skip(reason)
