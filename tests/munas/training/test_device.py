"""Device, thread and precision choices."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from munas.data import search_defaults
from munas.errors import UserError
from munas.space.architecture import parse_architecture
from munas.training.device import cpu_threads, resolve_device, training_dtype
from munas.training.trainer import train_candidate

from .conftest import SMALL_DIGITS_CNN


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(None).type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(UserError, match="unknown device"):
        resolve_device("abacus")
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="CUDA is not available"):
            resolve_device("cuda")


def test_cpu_threads_are_restored():
    before = torch.get_num_threads()
    with cpu_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_training_dtype():
    cpu = torch.device("cpu")
    assert training_dtype(cpu, "float32") is None
    assert training_dtype(cpu, "bfloat16") is torch.bfloat16
    native = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    assert training_dtype(cpu, "auto") is (torch.bfloat16 if native else None)
    assert training_dtype(torch.device("cuda"), "auto") is None
    with pytest.raises(UserError, match="precision"):
        dataclasses.replace(search_defaults("digits").preset, precision="float8").validate()


def test_float32_and_bfloat16_training_reach_the_same_accuracy(digits):
    architecture = parse_architecture(SMALL_DIGITS_CNN)
    errors = {}
    for precision in ("float32", "bfloat16"):
        config = dataclasses.replace(search_defaults("digits").preset, precision=precision)
        result = train_candidate(architecture, digits, config, seed=1)
        assert result.status == "ok", result.message
        errors[precision] = result.test_error
    assert errors["float32"] < 0.05 and abs(errors["bfloat16"] - errors["float32"]) < 0.025
