"""``chars74k``: de Campos et al.'s Chars74K, English natural-image characters (GoodImg).

Reads ``chars74k/English/Img/GoodImg/Bmp/SampleNNN/imgNNN-NNNNN.png`` in sorted path order
(the μNAS loader walks the folder unsorted, so its split depends on the file system; spec §8.19).
The label is NNN - 1: digits 0-9, then A-Z, then a-z (62 classes). Images are decoded as RGB,
resized to 48x48 with bilinear interpolation and scaled to [0, 1]. The fixed split takes 2000
test images, then 705 validation images, both stratified with seed 0 (5000 / 705 / 2000 for the
7705 images of the full set); with fewer images present both are scaled in proportion.
Augmentation: shift by up to 4 pixels. The set has no HTTPS source with published checksums,
so it is placed by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from munas.data.cache import cached_arrays
from munas.data.dataset import Augmentation, Dataset, make_dataset
from munas.data.defaults import SearchDefaults
from munas.data.errors import DataError
from munas.data.images import load_resized_images
from munas.data.registry import register_dataset
from munas.data.splits import train_val_test
from munas.search.fitness import Bounds
from munas.search.size import PAPER_SIZE
from munas.training.presets import TrainConfig

FOLDER = "chars74k/English/Img/GoodImg/Bmp"
SOURCE = "http://www.ee.surrey.ac.uk/CVSSP/demos/chars74k/EnglishImg.tgz"
FULL_SIZE = 7705
TEST_IMAGES, VAL_IMAGES = 2000, 705
SIZE = 48
LOADER_VERSION = 2
_NAME = re.compile(r"img(\d{3})-\d+\.png")
DEFAULTS = SearchDefaults(
    preset=TrainConfig(epochs=60, batch_size=80, optimizer="sgdw", lr=0.01, weight_decay=1e-4,
                       lr_schedule=((35, 0.005),), dropout=0.15, prune_start_epoch=20, prune_finish_epoch=53,
                       min_sparsity=0.10, max_sparsity=0.85),
    bounds=Bounds(0.30, 10_000, 20_000, 1_000_000),
    size=PAPER_SIZE,
)
"""Spec §6.2 (aging-evolution config with structured pruning)."""


def image_paths(folder: Path) -> list[tuple[Path, int]]:
    """Sorted (path, label) of every ``SampleNNN/imgNNN-*.png`` under ``folder``."""
    found = []
    for path in sorted(folder.glob("Sample[0-9][0-9][0-9]/img*.png")):
        match = _NAME.fullmatch(path.name)
        if match and match.group(1) == path.parent.name[-3:] and 1 <= int(match.group(1)) <= 62:
            found.append((path, int(match.group(1)) - 1))
    return found


@register_dataset("chars74k", input_shape=(SIZE, SIZE, 3), num_classes=62, defaults=DEFAULTS, folder=FOLDER,
                  requires=(f"{FOLDER}/Sample[0-9][0-9][0-9]/img*.png",),
                  description="Chars74K English GoodImg characters, PNG folders (7705 images)")
def load_chars74k(data_dir: Path, download: bool) -> Dataset:
    """Load Chars74K from ``data_dir/chars74k/English/Img/GoodImg/Bmp``; see the module docstring."""
    folder = data_dir / FOLDER
    found = image_paths(folder)
    if not found:
        raise DataError(f"Chars74K is missing: no SampleNNN/imgNNN-*.png files in {folder}; extract "
                        f"English/Img/GoodImg/Bmp from {SOURCE} so that {folder}/Sample001/ exists")
    paths = [path for path, _ in found]
    arrays = cached_arrays("chars74k", LOADER_VERSION, paths, lambda: {
        "x": load_resized_images(paths, SIZE, SIZE, "RGB", "decoding Chars74K") / np.float32(255.0)})
    x, y = arrays["x"], np.array([label for _, label in found], dtype=np.int64)
    n = len(y)
    split = train_val_test(y, test=round(n * TEST_IMAGES / FULL_SIZE), val=round(n * VAL_IMAGES / FULL_SIZE),
                           where=str(folder))
    classes = len(np.unique(y))
    notes = "" if n == FULL_SIZE else f"partial Chars74K: {n} of {FULL_SIZE} images, {classes} of 62 classes"
    return make_dataset("chars74k", {name: (x, y, indices) for name, indices in split.items()}, num_classes=62,
                        augmentation=Augmentation(shift_pixels=4), notes=notes,
                        unverified=notes and f"not the canonical release: {notes}")
