"""Batched augmentation against per-sample numpy oracles."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from munas.data import load_dataset
from munas.data.dataset import Augmentation
from munas.training.augmentation import augment, is_identity, rotate, rotate_by, shift, symmetric_index


def _generator(seed: int = 0) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def test_symmetric_index_matches_numpy_symmetric_pad():
    size, pad = 5, 3
    padded = np.pad(np.arange(size), pad, mode="symmetric")
    positions = torch.arange(-pad, size + pad)
    assert symmetric_index(positions, size).tolist() == padded.tolist()


def test_shift_is_a_crop_of_the_symmetric_padding():
    """Every shifted sample equals some window of np.pad(..., 'symmetric'), and offsets vary."""
    x = torch.rand(64, 2, 6, 9)
    pixels = 2
    out = shift(x, pixels, _generator())
    assert out.shape == x.shape
    offsets = set()
    for i in range(len(x)):
        padded = np.pad(x[i].numpy(), ((0, 0), (pixels, pixels), (pixels, pixels)), mode="symmetric")
        found = [(dy, dx) for dy in range(2 * pixels + 1) for dx in range(2 * pixels + 1)
                 if np.array_equal(padded[:, dy:dy + 6, dx:dx + 9], out[i].numpy())]
        assert found, f"sample {i} is not a crop of its symmetric padding"
        offsets.add(found[0])
    assert len(offsets) > 10


def test_rotation_by_right_angle_is_rot90_and_zero_angle_is_identity():
    x = torch.rand(3, 1, 7, 7)
    quarter = rotate_by(x, torch.full((3,), math.pi / 2))
    assert torch.equal(quarter, torch.rot90(x, 1, (2, 3)))
    assert torch.equal(rotate_by(x, torch.zeros(3)), x)
    ones = rotate_by(torch.ones(1, 1, 9, 9), torch.tensor([math.pi / 4]))
    assert ones[0, 0, 0, 0] == 0 and ones[0, 0, 4, 4] == 1  # corners fall outside: zero fill


def test_rotate_touches_about_probability_of_the_samples():
    x = torch.rand(400, 1, 28, 28)
    out = rotate(x, 0.3, 1.0, _generator())
    changed = (out != x).flatten(1).any(1).float().mean().item()
    assert 0.22 < changed < 0.38


def test_augment_on_real_digits_flips_only_some_and_keeps_values():
    data = load_dataset("digits")
    x = data.x_train[:200]
    out = augment(x, Augmentation(horizontal_flip=True), _generator(1))
    flipped = torch.all((out == x.flip(3)).flatten(1), 1)
    same = torch.all((out == x).flatten(1), 1)
    assert torch.all(flipped | same)
    assert 50 < int((flipped & ~same).sum()) < 150
    full = augment(x, Augmentation(True, 1, 0.3, 0.2), _generator(2))
    assert full.shape == x.shape and full.min() >= 0 and full.max() <= 1


def test_identity_augmentation_is_detected():
    assert is_identity(Augmentation())
    assert is_identity(Augmentation(rotate_probability=0.5, rotate_max_radians=0.0))
    assert not is_identity(Augmentation(shift_pixels=2))


@pytest.mark.parametrize("seed", [0, 1])
def test_augmentation_is_reproducible(seed):
    x = torch.rand(32, 1, 10, 10)
    aug = Augmentation(True, 2, 0.3, 0.2)
    assert torch.equal(augment(x, aug, _generator(seed)), augment(x, aug, _generator(seed)))
