"""Shared trained models: training is the expensive part, so each is trained once per session."""

from __future__ import annotations

import pytest

from munas.data import load_dataset, search_defaults
from munas.space.architecture import parse_architecture
from munas.training.trainer import train_candidate

from ..documents import conv

SMALL_DIGITS_CNN = {"input_shape": [8, 8, 1], "num_classes": 10, "architecture": {
    "conv_blocks": [{"is_branch": False, "layers": [conv(16)]}, {"is_branch": False, "layers": [conv(32)]}],
    "pooling": {"type": "max", "pool_size": 2}, "dense_blocks": [{"units": 32}]}}


@pytest.fixture(scope="session")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="session")
def digits_run(digits):
    """A small CNN trained on the real digits with the digits preset (a few seconds)."""
    architecture = parse_architecture(SMALL_DIGITS_CNN)
    return architecture, train_candidate(architecture, digits, search_defaults("digits").preset, seed=0)
