"""Test helper: load a real data set from ``$MUNAS_DATA_DIR`` or skip (or fail) the test.

Tests that depend on real data call :func:`load_real_dataset`. Where the data is absent the
test is skipped on a developer machine, but fails when ``MUNAS_REQUIRE_DATA=1`` or ``CI`` is
set, so a CI run cannot pass by skipping everything.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from munas.data.dataset import Dataset
from munas.data.download import DATA_DIR_ENV, resolve_data_dir
from munas.data.registry import get_source, load_dataset

if TYPE_CHECKING:
    import torch


def data_required() -> bool:
    """Whether a missing data set must fail the test instead of skipping it."""
    return os.environ.get("MUNAS_REQUIRE_DATA") == "1" or bool(os.environ.get("CI"))


def real_data_dir(name: str) -> Path:
    """``$MUNAS_DATA_DIR`` when it holds the built-in set ``name``; else skip (or fail) the test.

    A set that is not present skips the test, or fails it where :func:`data_required`.
    """
    import pytest

    source = get_source(name)
    if source.requires and not os.environ.get(DATA_DIR_ENV):
        reason = f"{DATA_DIR_ENV} is not set; point it at the real data sets to run this test"
    elif not source.is_present():
        reason = f"data set {name!r} is not present in {source.location()}"
    else:
        return resolve_data_dir()
    if data_required():
        pytest.fail(reason)
    pytest.skip(reason)


def load_real_dataset(name: str) -> Dataset:
    """Load the built-in data set ``name`` from ``$MUNAS_DATA_DIR``, never downloading.

    Skips or fails like :func:`real_data_dir` when the set is absent; a set that is present but
    broken raises its :class:`DataError`, failing the test, and so does a set whose loaded shape
    or class count differs from what it declares to the registry (which the search and the
    stress tests rely on).
    """
    real_data_dir(name)
    dataset = load_dataset(name, download=False)
    source = get_source(name)
    assert (dataset.input_shape, dataset.num_classes) == (source.input_shape, source.num_classes), (
        f"{name} loads as {dataset.input_shape} with {dataset.num_classes} classes, but declares "
        f"{source.input_shape} with {source.num_classes}")
    return dataset


def sample_hashes(x: torch.Tensor) -> list[bytes]:
    """A digest of each sample's values, to compare samples across splits."""
    import hashlib

    rows = x.reshape(len(x), -1).numpy()
    return [hashlib.sha1(row.tobytes()).digest() for row in rows]


def duplicates_across_splits(dataset: Dataset) -> int:
    """How many samples are value-identical to a sample of another split (0 for disjoint splits)."""
    hashes = {split: set(sample_hashes(getattr(dataset, f"x_{split}"))) for split in ("train", "val", "test")}
    pairs = (("train", "val"), ("train", "test"), ("val", "test"))
    return sum(len(hashes[a] & hashes[b]) for a, b in pairs)


def check_splits(dataset: Dataset, sizes: tuple[int, int, int], input_shape: tuple[int, int, int],
                 num_classes: int) -> None:
    """Assert the contract every loader keeps: sizes, NCHW float32 / int64 tensors, label range."""
    import torch

    assert dataset.split_sizes == sizes, dataset.split_sizes
    assert dataset.input_shape == input_shape
    assert dataset.num_classes == num_classes
    h, w, c = input_shape
    for split in ("train", "val", "test"):
        x, y = getattr(dataset, f"x_{split}"), getattr(dataset, f"y_{split}")
        assert x.dtype == torch.float32 and y.dtype == torch.int64, (split, x.dtype, y.dtype)
        assert tuple(x.shape) == (len(y), c, h, w), (split, tuple(x.shape))
        assert x.is_contiguous() and x.device.type == "cpu"
        assert bool(torch.isfinite(x).all())
        assert int(y.min()) >= 0 and int(y.max()) < num_classes, (split, int(y.min()), int(y.max()))
