"""``mnist`` and ``fashion_mnist``: the two data sets stored as IDX files, one loader for both.

Both are the original IDX ``.gz`` files: 60000 training images (54000 train / 6000 validation,
stratified, seed 0) and 10000 test images of 28x28x1, scaled to [0, 1]. They differ only in the
facts of the :data:`IDX_SETS` table: folder, source, checksums, augmentation (spec §6.2) and
search defaults. The checksums are of the decompressed IDX content, since distributions
recompress the ``.gz`` files.

An IDX file is a 4-byte magic (two zero bytes, a type code, the number of dimensions), one
big-endian uint32 per dimension, then the values. Only unsigned bytes (type 0x08) occur in
these data sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from munas.data.cache import cached_arrays
from munas.data.dataset import Augmentation, Dataset, make_dataset
from munas.data.defaults import SearchDefaults
from munas.data.download import RemoteFile, read_verified
from munas.data.errors import DataError
from munas.data.registry import register_dataset
from munas.data.splits import stratified_split
from munas.search.fitness import Bounds
from munas.search.size import PAPER_SIZE
from munas.training.presets import TrainConfig

IDX_UBYTE = 0x08
IDX_LOADER_VERSION = 1


def parse_idx(content: bytes, where: str) -> np.ndarray:
    """Decode IDX ``content`` of unsigned bytes into an array; ``where`` names it in errors."""
    if len(content) < 4 or content[0] != 0 or content[1] != 0 or content[2] != IDX_UBYTE or content[3] == 0:
        raise DataError(f"{where}: not an IDX file of unsigned bytes (bad magic number {content[:4].hex()}); "
                        "replace it with the original")
    ndim = content[3]
    header = 4 + 4 * ndim
    if len(content) < header:
        raise DataError(f"{where}: IDX header cut short ({len(content)} bytes); replace it with the original")
    shape = tuple(int(d) for d in np.frombuffer(content, dtype=">u4", count=ndim, offset=4))
    if len(content) != header + int(np.prod(shape, dtype=np.int64)):
        raise DataError(f"{where}: IDX header promises shape {shape} but the file holds {len(content)} bytes; "
                        "replace it with the original")
    return np.frombuffer(content, dtype=np.uint8, offset=header).reshape(shape)


IDX_FILES = {"train_images": "train-images-idx3-ubyte.gz", "train_labels": "train-labels-idx1-ubyte.gz",
             "test_images": "t10k-images-idx3-ubyte.gz", "test_labels": "t10k-labels-idx1-ubyte.gz"}
"""The file of each role; both sets use the same names."""


def load_idx_dataset(
    name: str,
    files: dict[str, RemoteFile],
    data_dir: Path,
    download: bool,
    augmentation: Augmentation,
) -> Dataset:
    """Load a 28x28 grey-scale IDX data set: checked files, x/255, 10 % stratified validation.

    ``files`` maps each role of :data:`IDX_FILES` to its :class:`RemoteFile`. The decoded arrays are
    cached (keyed by the files' identity) after the files passed their checksums.
    """

    def decode() -> dict[str, np.ndarray]:
        # The checksums pin the content, so shapes and label ranges need no further check.
        return {role: parse_idx(read_verified(spec, data_dir, download=download), str(data_dir / spec.path))
                for role, spec in files.items()}

    for spec in files.values():
        if not (data_dir / spec.path).exists():
            read_verified(spec, data_dir, download=download)  # downloads it, or says where to put it
    arrays = cached_arrays(name, IDX_LOADER_VERSION, [data_dir / spec.path for spec in files.values()], decode)
    x = (arrays["train_images"].astype(np.float32) / 255.0)[..., None]
    y = arrays["train_labels"].astype(np.int64)
    train_indices, val_indices = stratified_split(np.arange(len(y)), y, 0.1, str(data_dir / files["train_images"].path))
    x_test = (arrays["test_images"].astype(np.float32) / 255.0)[..., None]
    y_test = arrays["test_labels"].astype(np.int64)
    parts = {"train": (x, y, train_indices), "val": (x, y, val_indices),
             "test": (x_test, y_test, np.arange(len(y_test)))}
    return make_dataset(name, parts, num_classes=10, augmentation=augmentation)


@dataclass(frozen=True)
class IdxSet:
    """One data set in IDX files: everything in which MNIST and Fashion-MNIST differ."""

    name: str
    folder: str
    base_url: str
    sha256: dict[str, str]
    """sha256 of the decompressed content of each role's file."""
    augmentation: Augmentation
    defaults: SearchDefaults
    description: str

    @property
    def remote_files(self) -> dict[str, RemoteFile]:
        """The checked, downloadable file of each role."""
        return {role: RemoteFile(f"{self.folder}/{file}", self.sha256[role], self.base_url + file, gzipped=True)
                for role, file in IDX_FILES.items()}

    def load(self, data_dir: Path, download: bool) -> Dataset:
        """Load the set from ``data_dir/<folder>``, downloading missing files when ``download``."""
        return load_idx_dataset(self.name, self.remote_files, data_dir, download, self.augmentation)


IDX_SETS = {idx_set.name: idx_set for idx_set in (
    IdxSet(
        name="mnist", folder="mnist", base_url="https://storage.googleapis.com/cvdf-datasets/mnist/",
        sha256={"train_images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                "train_labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                "test_images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                "test_labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
        augmentation=Augmentation(shift_pixels=2, rotate_probability=0.3, rotate_max_radians=0.2),
        defaults=SearchDefaults(
            preset=TrainConfig(epochs=30, batch_size=128, optimizer="sgdw", lr=0.005, weight_decay=4e-5,
                               lr_schedule=(), dropout=0.0, prune_start_epoch=3, prune_finish_epoch=18,
                               min_sparsity=0.05, max_sparsity=0.80),
            bounds=Bounds(0.035, 2_500, 4_500, 30_000_000),
            size=PAPER_SIZE),
        description="MNIST handwritten digits, IDX .gz (60000 + 10000 images)"),
    IdxSet(
        name="fashion_mnist", folder="fashion-mnist",
        base_url="https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        sha256={"train_images": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                "train_labels": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                "test_images": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                "test_labels": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
        augmentation=Augmentation(horizontal_flip=True, shift_pixels=2, rotate_probability=0.3,
                                  rotate_max_radians=0.2),
        defaults=SearchDefaults(
            preset=TrainConfig(epochs=45, batch_size=128, optimizer="sgdw", lr=0.01, weight_decay=1e-5,
                               lr_schedule=((25, 0.005), (35, 0.001)), dropout=0.15, prune_start_epoch=3,
                               prune_finish_epoch=38, min_sparsity=0.05, max_sparsity=0.90),
            bounds=Bounds(0.10, 64_000, 64_000, 30_000_000),
            size=PAPER_SIZE),
        description="Fashion-MNIST clothing images, IDX .gz (60000 + 10000 images)"),
)}
"""Spec §6.2: the μNAS aging-evolution configs with structured pruning."""

def _register_all() -> None:
    """Register every set of :data:`IDX_SETS` with its one shared loader."""
    for idx_set in IDX_SETS.values():
        files = tuple(idx_set.remote_files.values())
        register_dataset(idx_set.name, input_shape=(28, 28, 1), num_classes=10, defaults=idx_set.defaults,
                         folder=idx_set.folder, requires=tuple(spec.path for spec in files), files=files,
                         description=idx_set.description)(idx_set.load)


_register_all()
