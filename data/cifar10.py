"""``cifar10``: Krizhevsky's CIFAR-10, the original python-pickle batches.

Reads ``cifar-10-batches-py/data_batch_1..5`` (whichever are present) and ``test_batch``
through a restricted unpickler. Pixels are scaled to [0, 1] and standardised per channel with
the μNAS constants; 10 % of the training images (stratified, seed 0) are the validation set.
Augmentation: horizontal flip and a shift of up to 4 pixels.

The archive has a known HTTPS source and sha256 and is downloaded when no batch is present.
Batches already in the folder are used as found; :data:`Dataset.notes` says which are there and
which differ from the canonical files (e.g. partial copies), so a subset is never mistaken for
the full set.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np

from munas.data.dataset import Augmentation, Dataset, make_dataset
from munas.data.defaults import SearchDefaults
from munas.data.download import RemoteFile, extract_tar_members, read_verified
from munas.data.errors import DataError
from munas.data.registry import register_dataset
from munas.data.safe_pickle import load_restricted_pickle
from munas.data.splits import stratified_split
from munas.search.fitness import Bounds
from munas.search.size import PAPER_SIZE
from munas.training.presets import TrainConfig

FOLDER = "cifar-10-batches-py"
ARCHIVE = RemoteFile("cifar-10-python.tar.gz", "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
                     "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz")
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
IMAGES_PER_BATCH = 10000
# md5 of the canonical batch files (as published with torchvision); only used to report
# whether a batch in place is the original one.
CANONICAL_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
}
DEFAULTS = SearchDefaults(
    preset=TrainConfig(epochs=130, batch_size=128, optimizer="sgdw", lr=0.01, weight_decay=1e-5,
                       lr_schedule=((90, 0.005), (105, 0.001)), dropout=0.15, prune_start_epoch=90,
                       prune_finish_epoch=120, min_sparsity=0.10, max_sparsity=0.90),
    bounds=Bounds(0.18, 75_000, 75_000, 30_000_000),
    pruning_bounds=Bounds(0.10, 50_000, 50_000, 60_000_000),
    size=dataclasses.replace(PAPER_SIZE, budget=6000),
)
"""Spec §6.2: 6000 rounds; the structured-pruning variant changed the bounds, as the paper did."""
MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32)
STD = np.array([0.2023, 0.1994, 0.2010], dtype=np.float32)


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (n, 32, 32, 3) uint8 and labels (n,) of one batch file, checked for shape and range."""
    batch = load_restricted_pickle(path.read_bytes(), str(path))
    if not isinstance(batch, dict):
        raise DataError(f"{path}: not a CIFAR-10 batch (a {type(batch).__name__}, not a dict); "
                        "replace it with the original")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise DataError(f"{path}: 'data' is not a uint8 array of n x 3072 pixels; replace it with the original batch")
    valid = isinstance(labels, list) and len(labels) == len(data) and all(isinstance(v, int) and 0 <= v < 10
                                                                          for v in labels)
    if not valid:
        raise DataError(f"{path}: 'labels' is not a list of {len(data)} labels in 0..9; "
                        "replace it with the original batch")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images, np.asarray(labels, dtype=np.int64)


def batch_report(path: Path, count: int) -> str:
    """One phrase about a batch in place: its size and whether it is the canonical file."""
    canonical = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest() == CANONICAL_MD5[path.name]
    if canonical:
        return f"{path.name} ({count} images, canonical)"
    return f"{path.name} ({count} of {IMAGES_PER_BATCH} images, not the canonical file)"


def _ensure_batches(data_dir: Path, download: bool) -> None:
    """Extract the batches from the archive (downloading it if needed) when none is present."""
    folder = data_dir / FOLDER
    if any((folder / name).exists() for name in (*TRAIN_BATCHES, TEST_BATCH)):
        return
    archive_path = data_dir / ARCHIVE.path
    if not archive_path.exists() and not download:
        raise DataError(f"CIFAR-10 is missing: put the python batches (data_batch_1..5, test_batch) in {folder}, "
                        f"or the archive {ARCHIVE.url} at {archive_path}")
    archive = read_verified(ARCHIVE, data_dir, download=download)
    members = {f"{FOLDER}/{name}": folder / name for name in (*TRAIN_BATCHES, TEST_BATCH, "batches.meta")}
    extract_tar_members(archive, members, str(archive_path))


@register_dataset("cifar10", input_shape=(32, 32, 3), num_classes=10, defaults=DEFAULTS, folder=FOLDER,
                  requires=(f"{FOLDER}/data_batch_[1-5]", f"{FOLDER}/{TEST_BATCH}"), files=(ARCHIVE,),
                  description="CIFAR-10 colour images, python batches (50000 + 10000 when complete)")
def load_cifar10(data_dir: Path, download: bool) -> Dataset:
    """Load CIFAR-10 from ``data_dir/cifar-10-batches-py``; see the module docstring."""
    _ensure_batches(data_dir, download)
    folder = data_dir / FOLDER
    train_paths = [folder / name for name in TRAIN_BATCHES if (folder / name).exists()]
    test_path = folder / TEST_BATCH
    if not train_paths:
        raise DataError(f"{folder} has no training batch: put at least one of data_batch_1..5 there "
                        f"(from {ARCHIVE.url})")
    if not test_path.exists():
        raise DataError(f"{test_path} is missing: put the test batch there (from {ARCHIVE.url})")
    batches = [read_batch(path) for path in train_paths]
    x_test, y_test = read_batch(test_path)
    found = [batch_report(path, len(labels)) for path, (_, labels) in zip(train_paths, batches)]
    found.append(batch_report(test_path, len(y_test)))
    missing = [name for name in TRAIN_BATCHES if not (folder / name).exists()]
    notes = "CIFAR-10 batches found: " + ", ".join(found)
    if missing:
        notes += "; missing: " + ", ".join(missing)
    x = np.concatenate([images for images, _ in batches])
    y = np.concatenate([labels for _, labels in batches])
    train_indices, val_indices = stratified_split(np.arange(len(y)), y, 0.1, str(folder))
    x, x_test = ((images.astype(np.float32) / 255.0 - MEAN) / STD for images in (x, x_test))
    parts = {"train": (x, y, train_indices), "val": (x, y, val_indices),
             "test": (x_test, y_test, np.arange(len(y_test)))}
    canonical = not missing and all(report.endswith(", canonical)") for report in found)
    return make_dataset("cifar10", parts, num_classes=10,
                        augmentation=Augmentation(horizontal_flip=True, shift_pixels=4), notes=notes,
                        unverified="" if canonical else "not the canonical CIFAR-10 release: " + notes)
