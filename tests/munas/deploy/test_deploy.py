"""int8 TFLite export of random architectures: TFLite Micro's arena against munas's PMU, and
TFLite Micro's outputs against LiteRT's (the deploy extra's gate is in conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from munas.deploy.micro import arena, litert_outputs, micro_outputs
from munas.deploy.order import reorder
from munas.deploy.tflite import convert_int8
from munas.resources import build_graph, compute_resources
from munas.resources.accounting import TFLM
from munas.space.sampling import random_architecture
from munas.training.model import build_network


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 3])
def test_arena_matches_pmu_and_micro_matches_litert(seed: int) -> None:
    architecture = random_architecture((8, 8, 1), 10, np.random.default_rng(seed))
    torch.manual_seed(seed)
    resources = compute_resources(architecture, TFLM)
    model = convert_int8(build_network(architecture).eval(), torch.rand(8, 1, 8, 8))
    ordered = reorder(model, build_graph(architecture, TFLM), resources.schedule)
    usage = arena(ordered)
    assert 1.0 <= usage.planned / resources.pmu <= 1.10  # 16-byte alignment of each buffer, no more
    assert usage.needed >= usage.planned + usage.persistent
    images = np.random.default_rng(seed).random((16, 8, 8, 1), dtype=np.float32)
    litert, micro = litert_outputs(ordered, images), micro_outputs(ordered, images)
    assert np.array_equal(litert.labels, micro.labels)
    assert np.abs(litert.logits.astype(int) - micro.logits).max() <= 1  # at most one rounding step apart (micro.py)
