"""IDX files (the MNIST format) and the loader shared by MNIST and Fashion-MNIST.

An IDX file is a 4-byte magic (two zero bytes, a type code, the number of dimensions), one
big-endian uint32 per dimension, then the values. Only unsigned bytes (type 0x08) occur in
these data sets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from munas.data.cache import cached_arrays
from munas.data.dataset import Augmentation, Dataset, make_dataset
from munas.data.download import RemoteFile, read_verified
from munas.data.errors import DataError
from munas.data.splits import stratified_split

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


IDX_ROLES = ("train_images", "train_labels", "test_images", "test_labels")


def load_idx_dataset(
    name: str,
    files: dict[str, RemoteFile],
    data_dir: Path,
    download: bool,
    augmentation: Augmentation,
) -> Dataset:
    """Load a 28x28 grey-scale IDX data set: checked files, x/255, 10 % stratified validation.

    ``files`` maps each of :data:`IDX_ROLES` to its :class:`RemoteFile`. The decoded arrays are
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
    parts = {"train": (x, y, train_indices), "val": (x, y, val_indices), "test": (x_test, y_test, np.arange(len(y_test)))}
    return make_dataset(name, parts, num_classes=10, augmentation=augmentation)
