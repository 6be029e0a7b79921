import gzip

import numpy as np
import pytest
import torch

from munas.data.idx import parse_idx
from munas.data.mnist import REMOTE_FILES
from munas.data.testing import check_splits, duplicates_across_splits, load_real_dataset, real_data_dir


@pytest.fixture(scope="module")
def mnist():
    return load_real_dataset("mnist")


def test_mnist_splits(mnist):
    check_splits(mnist, (54000, 6000, 10000), (28, 28, 1), 10)
    assert duplicates_across_splits(mnist) == 0
    assert mnist.augmentation.shift_pixels == 2 and mnist.augmentation.rotate_probability == 0.3
    assert not mnist.augmentation.horizontal_flip


def test_mnist_values_are_the_original_pixels_over_255(mnist):
    root = real_data_dir("mnist")
    raw = parse_idx(gzip.decompress((root / REMOTE_FILES["test_images"].path).read_bytes()), "t10k")
    assert torch.equal(mnist.x_test[:, 0], torch.from_numpy(raw.astype(np.float32) / 255))
    labels = parse_idx(gzip.decompress((root / REMOTE_FILES["test_labels"].path).read_bytes()), "t10k")
    assert torch.equal(mnist.y_test, torch.from_numpy(labels.astype(np.int64)))


def test_mnist_validation_is_a_stratified_tenth(mnist):
    train_counts = torch.bincount(mnist.y_train, minlength=10)
    val_counts = torch.bincount(mnist.y_val, minlength=10)
    total = train_counts + val_counts
    assert int(total.sum()) == 60000
    # Stratified: each class's share of the validation set is its share of the training file.
    assert torch.all((val_counts - total * 0.1).abs() <= 1)
