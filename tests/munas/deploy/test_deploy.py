"""int8 TFLite export of random architectures: TFLite Micro's arena against munas's PMU, and
TFLite Micro's predictions against LiteRT's. Needs the deploy extra; with MUNAS_REQUIRE_DEPLOY=1
(CI) a missing extra fails instead of skipping."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

if os.environ.get("MUNAS_REQUIRE_DEPLOY") != "1":
    pytest.importorskip("litert_torch")
    pytest.importorskip("tflite_micro")

from munas.deploy.micro import arena, litert_predict, micro_predict
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
    assert np.array_equal(litert_predict(ordered, images), micro_predict(ordered, images))
