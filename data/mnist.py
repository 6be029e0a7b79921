"""``mnist``: LeCun et al.'s handwritten digits, the original IDX ``.gz`` files.

60000 training images (54000 train / 6000 validation, stratified, seed 0) and 10000 test
images of 28x28x1, scaled to [0, 1]. Augmentation as the μNAS configuration: rotation by up to
0.2 rad with probability 0.3, shift by up to 2 pixels.
"""

from __future__ import annotations

from pathlib import Path

from munas.data.dataset import Augmentation, Dataset
from munas.data.download import RemoteFile
from munas.data.idx import load_idx_dataset
from munas.data.registry import register_dataset

FOLDER = "mnist"
BASE_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
# sha256 of the decompressed IDX content of the canonical files.
FILES = {
    "train_images": ("train-images-idx3-ubyte.gz", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    "train_labels": ("train-labels-idx1-ubyte.gz", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    "test_images": ("t10k-images-idx3-ubyte.gz", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "test_labels": ("t10k-labels-idx1-ubyte.gz", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}
REMOTE_FILES = {role: RemoteFile(f"{FOLDER}/{file}", digest, BASE_URL + file, gzipped=True)
                for role, (file, digest) in FILES.items()}


@register_dataset("mnist", input_shape=(28, 28, 1), num_classes=10, folder=FOLDER,
                  requires=tuple(spec.path for spec in REMOTE_FILES.values()), files=tuple(REMOTE_FILES.values()),
                  description="MNIST handwritten digits, IDX .gz (60000 + 10000 images)")
def load_mnist(data_dir: Path, download: bool) -> Dataset:
    """Load MNIST from ``data_dir/mnist``, downloading missing files when ``download``."""
    augmentation = Augmentation(shift_pixels=2, rotate_probability=0.3, rotate_max_radians=0.2)
    return load_idx_dataset("mnist", REMOTE_FILES, data_dir, download, augmentation)
