"""The user's own data set, given as a path instead of a name.

* An ``.npz`` file with ``x_train, y_train, x_test, y_test``: images (n, h, w) or (n, h, w, c)
  (channels last, as Keras stores them), integer labels 0..k-1. Integer images (any integer
  dtype) are 8-bit pixels 0..255 and scaled by 1/255; float images are used as they are. The
  scaling depends on the kind of number, never on its width, so the same pixels give the same
  input whether a split is stored as uint8 or int64; a split of integers next to a split of
  floats is refused, since nothing says whether the floats are 0..255 or already 0..1.
  Labels must be 0..k-1 with every class in ``y_train``, and ``y_test`` may only hold classes
  of ``y_train``: a stray label would otherwise silently add classes to the network's head.
  10 % of the training set (stratified, seed 0) becomes the validation set. Read with
  ``allow_pickle=False``: an ``.npz`` cannot run code.
* A folder with one sub-folder of images per class (labels in sorted folder-name order). Images
  are resized (bilinear) to the most common size among them, kept grey-scale when all are grey,
  else RGB, and scaled by 1/255; the split is 20 % test, then 10 % of the rest as validation,
  stratified with seed 0.

Its search defaults are declared here too (:data:`USER_DEFAULTS`); they apply to user data only,
never to a misspelt built-in name.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

from munas.data.cache import cached_arrays
from munas.data.dataset import Dataset, make_dataset
from munas.data.defaults import SearchDefaults
from munas.data.errors import DataError
from munas.data.images import IMAGE_SUFFIXES, load_resized_images
from munas.data.splits import stratified_split, train_val_test
from munas.search.fitness import Bounds
from munas.search.size import PAPER_SIZE
from munas.training.presets import TrainConfig

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
FOLDER_LOADER_VERSION = 1
GREY_MODES = {"1", "L", "LA", "I", "I;16", "F"}

USER_DEFAULTS = SearchDefaults(
    preset=TrainConfig(epochs=30, batch_size=128, optimizer="sgdw", lr=0.01, weight_decay=1e-5,
                       lr_schedule=((20, 0.005), (25, 0.001)), dropout=0.15, prune_start_epoch=3,
                       prune_finish_epoch=25, min_sparsity=0.05, max_sparsity=0.90),
    bounds=Bounds(0.10, 64_000, 64_000, 30_000_000),
    size=PAPER_SIZE,
)
"""For any user data set: Fashion-MNIST's training procedure shortened to 30 epochs, the paper's
headline microcontroller bounds (64 KB RAM, 64 KB flash, 30 M MACs) with 10 % error, and the
paper's search size."""


def load_user_dataset(path: Path) -> Dataset:
    """Load ``path`` as an ``.npz`` file or as a folder of class sub-folders (see the module docstring)."""
    if path.is_dir():
        return load_image_folder(path)
    return load_npz(path)


def _pixel_kind(array: np.ndarray) -> str:
    """"integer" (8-bit pixels, scaled by 1/255) or "float" (floats and booleans, used as stored)."""
    return "integer" if np.issubdtype(array.dtype, np.integer) else "float"


def _images(array: np.ndarray, key: str, path: Path) -> np.ndarray:
    if array.ndim == 3:
        array = array[..., None]
    numeric = np.issubdtype(array.dtype, np.number) and not np.issubdtype(array.dtype, np.complexfloating)
    numeric = numeric or array.dtype == np.bool_
    if array.ndim != 4 or not numeric or 0 in array.shape[1:]:
        raise DataError(f"{path}: {key} must be numeric images of shape (n, h, w) or (n, h, w, c), "
                        f"got {array.dtype} {array.shape}")
    if len(array) == 0:
        raise DataError(f"{path}: {key} is empty (0 images); every split needs samples")
    if _pixel_kind(array) == "integer":
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > 255:
            raise DataError(f"{path}: {key} holds integers from {low} to {high}, but integer images are read as "
                            "8-bit pixels 0..255 (scaled by 1/255); store other ranges as floats, scaled as you "
                            "want the network to see them")
        return array.astype(np.float32) / np.float32(255.0)
    images = array.astype(np.float32)
    if not np.isfinite(images).all():
        raise DataError(f"{path}: {key} contains NaN or infinite values (or values beyond float32); "
                        "clean the data first")
    return images


def _labels(array: np.ndarray, key: str, count: int, path: Path) -> np.ndarray:
    integral = np.issubdtype(array.dtype, np.integer) or (
        np.issubdtype(array.dtype, np.floating) and np.all(np.isfinite(array)) and np.all(array == np.round(array)))
    # Beyond 2**62 a label does not survive the conversion to int64 (it is refused as stray later anyway).
    integral = integral and (not len(array) or float(np.max(array.astype(np.float64))) < 2.0**62)
    if array.ndim != 1 or len(array) != count or not integral or (len(array) and array.min() < 0):
        raise DataError(f"{path}: {key} must be {count} integer labels 0..k-1 (one per image), "
                        f"got {array.dtype} {array.shape}")
    return array.astype(np.int64)


def _listed(values: list[int], limit: int = 8) -> str:
    shown = ", ".join(str(v) for v in values[:limit])
    return shown + (f", … ({len(values)} in all)" if len(values) > limit else "")


def check_labels(y_train: np.ndarray, y_test: np.ndarray, path: Path) -> int:
    """The number of classes k, after checking the labels are 0..k-1, every one in ``y_train``.

    The network's head gets k outputs, so a stray label (10⁶ among 0..9) would silently build
    a huge head, and a class only in the test split can never be predicted: both are refused,
    naming the offending labels.
    """
    present = np.unique(y_train)
    k = len(present)
    beyond = [int(v) for v in present if v >= k]
    if beyond:
        missing = sorted(set(range(k)) - {int(v) for v in present})
        raise DataError(f"{path}: y_train labels must be 0..k-1 with every class present; its {k} distinct labels "
                        f"should be 0..{k - 1}, but label(s) {_listed(beyond)} lie beyond and "
                        f"{_listed(missing)} have no sample; renumber the classes 0..{k - 1}")
    unseen = [int(v) for v in np.setdiff1d(np.unique(y_test), present)]
    if unseen:
        raise DataError(f"{path}: y_test has label(s) {_listed(unseen)} that y_train never has (its labels are "
                        f"0..{k - 1}); a class the network never trains on cannot be predicted: add training "
                        "samples of it or drop it from the test split")
    return k


def load_npz(path: Path) -> Dataset:
    """Load an ``.npz`` with ``x_train, y_train, x_test, y_test``; any problem is a one-line DataError."""
    with open(path, "rb") as file:
        magic = file.read(6)
    if not magic.startswith((b"PK\x03\x04", b"\x93NUMPY")):
        raise DataError(f"{path}: not an .npz file (no zip archive); save the arrays with "
                        f"np.savez(path, {'=..., '.join(NPZ_KEYS)}=...)")
    try:
        stored = np.load(path, allow_pickle=False)
        if not isinstance(stored, np.lib.npyio.NpzFile):
            raise DataError(f"{path}: a single array, not an .npz archive; save the four arrays with "
                            f"np.savez(path, {'=..., '.join(NPZ_KEYS)}=...)")
        with stored:
            missing = [key for key in NPZ_KEYS if key not in stored.files]
            if missing:
                found = ", ".join(stored.files) or "none"
                raise DataError(f"{path}: missing array(s) {', '.join(missing)} (found: {found}); "
                                f"the .npz needs {', '.join(NPZ_KEYS)}")
            arrays = {key: stored[key] for key in NPZ_KEYS}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"{path}: not a readable .npz file ({str(error).split('. ')[0]}); write it with np.savez "
                        "and arrays of numbers only (object arrays are refused)") from error
    x = {split: _images(arrays[f"x_{split}"], f"x_{split}", path) for split in ("train", "test")}
    if _pixel_kind(arrays["x_train"]) != _pixel_kind(arrays["x_test"]):
        raise DataError(f"{path}: x_train is {arrays['x_train'].dtype} but x_test is {arrays['x_test'].dtype}; "
                        "integer images are scaled by 1/255 and float images are not, so the same pixels would "
                        "differ between the splits: store both as integers (0..255) or both as floats")
    y = {split: _labels(arrays[f"y_{split}"], f"y_{split}", len(x[split]), path) for split in ("train", "test")}
    if x["train"].shape[1:] != x["test"].shape[1:]:
        raise DataError(f"{path}: x_train images are {x['train'].shape[1:]} but x_test images are "
                        f"{x['test'].shape[1:]}; both must have the same (h, w, c)")
    num_classes = check_labels(y["train"], y["test"], path)
    train_indices, val_indices = stratified_split(np.arange(len(y["train"])), y["train"], 0.1, str(path))
    parts = {"train": (x["train"], y["train"], train_indices), "val": (x["train"], y["train"], val_indices),
             "test": (x["test"], y["test"], np.arange(len(y["test"])))}
    return make_dataset(path.stem, parts, num_classes=num_classes, notes=f"user data set {path}")


def class_folders(root: Path) -> list[tuple[str, list[Path]]]:
    """(class name, sorted image paths) of each sub-folder holding images, by sorted name."""
    classes = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        images = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if images:
            classes.append((folder.name, images))
    return classes


def _size_and_mode(path: Path) -> tuple[tuple[int, int], str]:
    from PIL import Image, UnidentifiedImageError  # imported by the loader only: listing data sets needs no PIL

    try:
        with Image.open(path) as image:
            return (image.height, image.width), image.mode
    except (OSError, UnidentifiedImageError) as error:
        raise DataError(f"{path}: cannot read the image ({error}); replace or remove the file") from error


def load_image_folder(root: Path) -> Dataset:
    """Load a folder of class sub-folders of images (see the module docstring)."""
    classes = class_folders(root)
    if not classes:
        raise DataError(f"{root} has no class sub-folders with images; put one sub-folder of images per class "
                        f"in it (e.g. {root / 'cat' / '001.png'})")
    if len(classes) < 2:
        raise DataError(f"{root} has only one class sub-folder ({classes[0][0]}); a classifier needs at least two")
    paths = [path for _, images in classes for path in images]
    y = np.array([label for label, (_, images) in enumerate(classes) for _ in images], dtype=np.int64)
    headers = [_size_and_mode(path) for path in paths]
    (height, width), _ = Counter(size for size, _ in headers).most_common(1)[0]
    mode = "L" if all(mode in GREY_MODES for _, mode in headers) else "RGB"
    key = hashlib.sha256(os.path.abspath(root).encode()).hexdigest()[:12]
    arrays = cached_arrays(f"folder_{key}", FOLDER_LOADER_VERSION, paths, lambda: {
        "x": load_resized_images(paths, height, width, mode, f"decoding {root.name}") / np.float32(255.0)})
    split = train_val_test(y, test=0.2, val=0.1, where=str(root))
    names = ", ".join(name for name, _ in classes)
    notes = f"user data set {root}: {len(paths)} images, {height}x{width} {mode}; classes in label order: {names}"
    return make_dataset(root.name, {name: (arrays["x"], y, indices) for name, indices in split.items()},
                        num_classes=len(classes), notes=notes)
