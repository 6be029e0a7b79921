"""The run store keeps a finished candidate's trained weights; they load back into the same
network, never as arbitrary pickles, and a store without them answers None."""

from __future__ import annotations

import pickle

import pytest
import torch

from munas.errors import UserError
from munas.search.store import RunStore
from munas.training.checkpoint import network_from_bytes, weights_to_bytes
from munas.training.model import build_network

from .factories import ARCHITECTURE, evaluated


def test_weights_round_trip_through_the_store(tmp_path):
    torch.manual_seed(0)
    network = build_network(ARCHITECTURE).eval()
    with RunStore(tmp_path / "candidates.sqlite") as store:
        store.add_weights(0, weights_to_bytes(network.state_dict()))
        store.add(evaluated(0), {"next_id": 1})
    with RunStore(tmp_path / "candidates.sqlite", readonly=True) as store:
        blob = store.weights(0)
        assert store.weights(1) is None
    assert blob is not None
    loaded = network_from_bytes(ARCHITECTURE, blob, "candidate 0")
    x = torch.rand(4, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(loaded(x), network(x))


def test_a_store_from_before_weights_has_none(tmp_path):
    with RunStore(tmp_path / "candidates.sqlite") as store:
        store.add(evaluated(0), {"next_id": 1})
        assert store.weights(0) is None


@pytest.mark.parametrize("blob", [b"garbage", pickle.dumps({"conv": print})], ids=["garbage", "pickle"])
def test_bytes_that_are_not_a_tensor_state_are_refused(blob):
    with pytest.raises(UserError, match="not a plain tensor state"):
        network_from_bytes(ARCHITECTURE, blob, "candidate 0")


def test_weights_of_another_shape_are_refused():
    other = build_network(ARCHITECTURE).state_dict()
    other = {key: torch.zeros(3) if key.endswith("bias") else value for key, value in other.items()}
    with pytest.raises(UserError, match="do not fit"):
        network_from_bytes(ARCHITECTURE, weights_to_bytes(other), "candidate 0")
