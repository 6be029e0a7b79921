"""``fashion_mnist``: Zalando's Fashion-MNIST, the original IDX ``.gz`` files.

Same layout and split as MNIST (54000 / 6000 / 10000, 28x28x1, x/255). Augmentation as the
μNAS configuration: horizontal flip, rotation by up to 0.2 rad with probability 0.3, shift by
up to 2 pixels. Checked by decompressed content, since distributions recompress the ``.gz``.
"""

from __future__ import annotations

from pathlib import Path

from munas.data.dataset import Augmentation, Dataset
from munas.data.download import RemoteFile
from munas.data.idx import load_idx_dataset
from munas.data.registry import register_dataset

FOLDER = "fashion-mnist"
BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# sha256 of the decompressed IDX content of the canonical files.
FILES = {
    "train_images": ("train-images-idx3-ubyte.gz", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    "train_labels": ("train-labels-idx1-ubyte.gz", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    "test_images": ("t10k-images-idx3-ubyte.gz", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    "test_labels": ("t10k-labels-idx1-ubyte.gz", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
}
REMOTE_FILES = {role: RemoteFile(f"{FOLDER}/{file}", digest, BASE_URL + file, gzipped=True)
                for role, (file, digest) in FILES.items()}


@register_dataset("fashion_mnist", input_shape=(28, 28, 1), num_classes=10, folder=FOLDER,
                  requires=tuple(spec.path for spec in REMOTE_FILES.values()), files=tuple(REMOTE_FILES.values()),
                  description="Fashion-MNIST clothing images, IDX .gz (60000 + 10000 images)")
def load_fashion_mnist(data_dir: Path, download: bool) -> Dataset:
    """Load Fashion-MNIST from ``data_dir/fashion-mnist``, downloading missing files when ``download``."""
    augmentation = Augmentation(horizontal_flip=True, shift_pixels=2, rotate_probability=0.3, rotate_max_radians=0.2)
    return load_idx_dataset("fashion_mnist", REMOTE_FILES, data_dir, download, augmentation)
