"""Zero-cost proxies on real digits networks: finite, deterministic, and leave the RNG alone."""

from __future__ import annotations

import math

import torch

from munas.space.architecture import parse_architecture
from munas.training.proxies import PROXIES, proxy_batch, zero_cost_proxies

from .conftest import SMALL_DIGITS_CNN


def test_proxies_are_finite_repeatable_and_do_not_touch_the_global_rng(digits):
    architecture = parse_architecture(SMALL_DIGITS_CNN)
    x, y = proxy_batch(digits.x_train, digits.y_train)
    torch.manual_seed(7)
    before = torch.get_rng_state()
    first = zero_cost_proxies(architecture, x, y, seed=3)
    assert torch.equal(torch.get_rng_state(), before)
    assert tuple(first) == PROXIES and all(math.isfinite(v) for v in first.values())
    assert zero_cost_proxies(architecture, x, y, seed=3) == first


def test_a_wider_network_scores_higher_synflow(digits):
    x, y = proxy_batch(digits.x_train, digits.y_train)
    narrow, wide = (parse_architecture({**SMALL_DIGITS_CNN, "architecture": {
        **SMALL_DIGITS_CNN["architecture"], "dense_blocks": [{"units": units}]}}) for units in (4, 64))
    assert zero_cost_proxies(wide, x, y)["synflow"] > zero_cost_proxies(narrow, x, y)["synflow"]
