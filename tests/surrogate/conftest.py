"""Real evaluated digits candidates (see fixtures/README.md) shared by the surrogate tests."""

from pathlib import Path

import numpy as np
import pytest

from munas.surrogate.samples import encode_samples, samples_from_jsonl

FIXTURE = Path(__file__).parent / "fixtures" / "digits_candidates.jsonl"


@pytest.fixture(scope="session")
def digits_samples():
    return samples_from_jsonl(FIXTURE)


@pytest.fixture(scope="session")
def digits_graphs(digits_samples):
    return encode_samples(digits_samples), np.array([s.val_error for s in digits_samples])
