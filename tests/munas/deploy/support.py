"""Export test helpers: the deploy extra's gate, and a run store with one really trained network.

The deploy tests need the optional ``[deploy]`` extra. Where it is missing they are skipped on
a developer machine but fail where ``MUNAS_REQUIRE_DEPLOY=1`` or ``CI`` is set, so CI cannot
pass by skipping them. The network is trained directly (one candidate, a few epochs, no search) through the same worker entry point
a search uses, so the stored weights, the pruned architecture and munas's int8 test accuracy
are what ``search`` would have stored, at a few seconds' cost.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
from pathlib import Path

import pytest

from munas.search.config import SearchOptions, new_config, train_config_object
from munas.search.evaluation import EvaluationJob, evaluate
from munas.search.run import RunDirectory
from munas.search.store import RunStore
from munas.space.architecture import Architecture, ConvBlock, ConvLayer, DenseBlock

from ..search.factories import evaluated

DEPLOY_MODULES = ("litert_torch", "ai_edge_litert", "tflite_micro", "onnxruntime", "onnxscript")


def require_deploy_extra() -> None:
    """Skip the calling test without the deploy extra, or fail it where the extra is required."""
    missing = [name for name in DEPLOY_MODULES if importlib.util.find_spec(name) is None]
    if not missing:
        return
    reason = f"the deploy extra is not installed (missing {', '.join(missing)}): pip install -e '.[deploy]'"
    if os.environ.get("MUNAS_REQUIRE_DEPLOY") == "1" or os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


NETWORK = Architecture(
    input_shape=(8, 8, 1), num_classes=10,
    conv_blocks=(ConvBlock((ConvLayer("Conv2D", ker_size=3, filters=12, stride2=False, has_bn=True),
                            ConvLayer("DWConv2D", ker_size=3, stride2=True, has_prepool=False))),),
    dense_blocks=(DenseBlock(24),),
)
"""Small enough to train in seconds, with a BatchNorm and a depthwise conv to convert."""


def trained_run(root: Path, name: str = "trained", epochs: int = 8) -> RunDirectory:
    """Run ``name`` under ``root``: candidate 0 trained and stored with its weights, candidate 1
    failed, candidate 2 ok but without weights (as in a run made before weights were kept)."""
    run = RunDirectory(name, root)
    config = new_config(SearchOptions(dataset="digits", epochs=epochs), name)
    run.write_config(config.to_dict())
    outcome = evaluate(EvaluationJob(candidate_id=0, architecture=NETWORK, sparsity=None, dataset="digits",
                                     data_dir=None, train_config=train_config_object("digits", epochs), seed=0,
                                     accounting=config.accounting))
    assert outcome.status == "ok" and outcome.weights is not None, outcome.message
    measured = {field: getattr(outcome, field) for field in
                ("val_error", "test_error", "int8_test_error", "pruned_architecture", "pmu", "model_size", "macs")}
    trained = dataclasses.replace(evaluated(0), architecture=NETWORK, sparsity=None, **measured)
    with RunStore(run.database) as store:
        store.add_weights(0, outcome.weights)
        store.add(trained, {"next_id": 1})
        store.add(evaluated(1, status="failed"), {"next_id": 2})
        store.add(evaluated(2), {"next_id": 3})
    return run
