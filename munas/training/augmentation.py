"""Train-time augmentation of a whole batch at once, on the batch's device (spec §6.2).

Per-sample Python loops or a DataLoader would dominate the step time of the tiny networks
NAS trains, so every transform here is a handful of tensor ops over the batch:

* horizontal flip with probability 1/2;
* rotation, with probability ``rotate_probability``, by U(-a, a) radians about the image
  centre, nearest-neighbour sampling and zero fill (as tfa's ``rotate``);
* shift: pad ``n`` pixels on every side with *symmetric* (edge-including mirror) padding and
  crop a uniformly random window of the original size. Rows use the height and columns the
  width (the reference swaps them, spec §8.18).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from munas.data.dataset import Augmentation


def is_identity(augmentation: Augmentation) -> bool:
    return not (augmentation.horizontal_flip or augmentation.shift_pixels
                or (augmentation.rotate_probability > 0 and augmentation.rotate_max_radians > 0))


def augment(x: torch.Tensor, augmentation: Augmentation, generator: torch.Generator) -> torch.Tensor:
    """Augmented copy of the NCHW batch ``x`` (``x`` itself when nothing applies)."""
    if augmentation.horizontal_flip:
        flip = torch.rand(x.shape[0], device=x.device, generator=generator) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
    if augmentation.rotate_probability > 0 and augmentation.rotate_max_radians > 0:
        x = rotate(x, augmentation.rotate_probability, augmentation.rotate_max_radians, generator)
    if augmentation.shift_pixels:
        x = shift(x, augmentation.shift_pixels, generator)
    return x


def rotate(x: torch.Tensor, probability: float, max_radians: float, generator: torch.Generator) -> torch.Tensor:
    """Rotate each sample with ``probability`` by U(-max_radians, max_radians); others get angle 0."""
    n = x.shape[0]
    chosen = torch.rand(n, device=x.device, generator=generator) < probability
    angle = (torch.rand(n, device=x.device, generator=generator) * 2 - 1) * max_radians * chosen
    return rotate_by(x, angle)


def rotate_by(x: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Rotate sample i counter-clockwise by ``angle[i]`` radians (nearest neighbour, zero fill).

    ``affine_grid`` works in normalised coordinates, where a pixel step is 2/W across and 2/H
    down; the off-diagonal terms carry the H/W ratio so that non-square images rotate rigidly.
    With ``align_corners=False`` the centre of normalised space is the pixel centre
    ((W-1)/2, (H-1)/2), tfa's rotation centre. Angle 0 samples exactly every pixel centre, so
    such samples come back unchanged.
    """
    _, _, h, w = x.shape
    cos, sin = torch.cos(angle), torch.sin(angle)
    zero = torch.zeros_like(angle)
    theta = torch.stack([torch.stack([cos, -sin * (h / w), zero], 1), torch.stack([sin * (w / h), cos, zero], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)


def symmetric_index(positions: torch.Tensor, size: int) -> torch.Tensor:
    """Source index of each (possibly out-of-range) position under symmetric padding:
    ``-1 -> 0``, ``-2 -> 1``, ``size -> size-1``, ``size+1 -> size-2`` (valid for pads <= size)."""
    below = positions < 0
    above = positions >= size
    return torch.where(below, -positions - 1, torch.where(above, 2 * size - positions - 1, positions))


def shift(x: torch.Tensor, pixels: int, generator: torch.Generator) -> torch.Tensor:
    """Random crop of the symmetric-padded batch, gathered directly without building the pad."""
    n, _, h, w = x.shape
    pad_h, pad_w = min(pixels, h), min(pixels, w)
    dy = torch.randint(0, 2 * pad_h + 1, (n, 1), device=x.device, generator=generator)
    dx = torch.randint(0, 2 * pad_w + 1, (n, 1), device=x.device, generator=generator)
    rows = symmetric_index(torch.arange(h, device=x.device) + dy - pad_h, h)  # (n, h)
    cols = symmetric_index(torch.arange(w, device=x.device) + dx - pad_w, w)  # (n, w)
    batch = torch.arange(n, device=x.device)[:, None, None]
    gathered = x[batch, :, rows[:, :, None], cols[:, None, :]]  # (n, h, w, c)
    return gathered.permute(0, 3, 1, 2)
