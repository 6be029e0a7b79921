import pytest
import torch

from munas.data.testing import check_splits, duplicates_across_splits, load_real_dataset


@pytest.fixture(scope="module")
def fashion():
    return load_real_dataset("fashion_mnist")


def test_fashion_mnist_splits(fashion):
    check_splits(fashion, (54000, 6000, 10000), (28, 28, 1), 10)
    assert duplicates_across_splits(fashion) == 0
    # The canonical label files hold 6000 and 1000 images of each class.
    assert torch.equal(torch.bincount(fashion.y_train) + torch.bincount(fashion.y_val), torch.full((10,), 6000))
    assert torch.equal(torch.bincount(fashion.y_test), torch.full((10,), 1000))
    assert fashion.augmentation.horizontal_flip and fashion.augmentation.shift_pixels == 2


def test_fashion_mnist_is_scaled_to_unit_range(fashion):
    assert float(fashion.x_train.min()) == 0.0 and float(fashion.x_train.max()) == 1.0
    scaled = fashion.x_test * 255
    assert torch.equal(scaled, scaled.round())
