"""The in-memory form of a data set that the trainer consumes.

torch is imported where tensors are built, not at module level: every data set module imports
this one, and listing or describing data sets must not pay for torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from munas.data.errors import DataError

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Augmentation:
    """Train-time augmentation the trainer applies on-device (spec §6.2).

    ``shift_pixels`` n means: pad n pixels on each side with symmetric padding, then crop a
    uniformly random window of the original size. Rotation uses nearest-neighbour sampling and
    zero fill, with probability ``rotate_probability`` by an angle drawn from
    U(-``rotate_max_radians``, ``rotate_max_radians``).
    """

    horizontal_flip: bool = False
    shift_pixels: int = 0
    rotate_probability: float = 0.0
    rotate_max_radians: float = 0.0


@dataclass
class Dataset:
    """Train / validation / test splits, ready for training.

    Images are float32 tensors in NCHW layout, labels int64 tensors in ``0..num_classes-1``,
    all on the CPU. ``notes`` says what the loader found when it differs from the canonical set
    (e.g. partial CIFAR-10 batches), so results on a subset are never mistaken for the paper's.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    augmentation: Augmentation = field(default_factory=Augmentation)
    notes: str = ""
    unverified: str = ""
    """Why this data may not be the canonical release (partial, non-canonical files, nothing to check
    it against); empty when the loader verified it (published checksums, the built-in copy, or the
    release's exact file count) or when it is the user's own data. ``datasets --verify`` and
    ``search`` say it prominently, so a subset is never taken for the real thing."""

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(height, width, channels) of one sample, the order architecture documents use."""
        _, c, h, w = self.x_train.shape
        return (int(h), int(w), int(c))

    @property
    def split_sizes(self) -> tuple[int, int, int]:
        """Number of (train, validation, test) samples."""
        return (len(self.y_train), len(self.y_val), len(self.y_test))


def make_dataset(
    name: str,
    parts: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    num_classes: int,
    augmentation: Augmentation | None = None,
    notes: str = "",
    unverified: str = "",
) -> Dataset:
    """Build a :class:`Dataset` from NHWC numpy images, labels and the indices of each split.

    ``parts`` maps ``"train"``, ``"val"`` and ``"test"`` to ``(x, y, indices)``: ``x`` of shape
    (n, h, w, c), already scaled, and the rows of it that form the split (two splits may share
    one pool of images). Converting in one place keeps every loader's output identical in layout
    and dtype; each pool is converted to NCHW float32 once and the splits are gathered from it.
    An empty split is a :class:`DataError`: its error would read 1.0 (or 0/0) without a word.
    """
    import torch

    for split in ("train", "val", "test"):
        if len(parts[split][2]) == 0:
            raise DataError(f"{name}: the {split} split is empty; a data set needs samples in train, validation "
                            "and test (add samples)")
    pools: dict[int, torch.Tensor] = {}
    tensors: dict[str, torch.Tensor] = {}
    for split in ("train", "val", "test"):
        x, y, indices = parts[split]
        if id(x) not in pools:
            pools[id(x)] = torch.from_numpy(np.asarray(x, dtype=np.float32)).permute(0, 3, 1, 2)
        index = torch.from_numpy(np.asarray(indices, dtype=np.int64))
        tensors[f"x_{split}"] = pools[id(x)].index_select(0, index).contiguous()
        tensors[f"y_{split}"] = torch.from_numpy(np.asarray(y, dtype=np.int64)).index_select(0, index)
    return Dataset(name=name, num_classes=num_classes, augmentation=augmentation or Augmentation(), notes=notes,
                   unverified=unverified, **tensors)
