import numpy as np
import torch
from sklearn.datasets import load_digits as sklearn_digits

from munas.data import Dataset, list_datasets, load_dataset


def test_digits_is_registered_and_needs_no_files(tmp_path):
    assert "digits" in list_datasets()
    dataset = load_dataset("digits", data_dir=tmp_path)  # an empty data dir is fine
    assert isinstance(dataset, Dataset)
    assert list(tmp_path.iterdir()) == []


def test_digits_splits_shapes_and_ranges():
    dataset = load_dataset("digits")
    assert dataset.split_sizes == (1293, 144, 360)
    assert dataset.input_shape == (8, 8, 1)
    assert dataset.num_classes == 10
    for x, y in ((dataset.x_train, dataset.y_train), (dataset.x_val, dataset.y_val), (dataset.x_test, dataset.y_test)):
        assert x.dtype == torch.float32 and y.dtype == torch.int64
        assert x.shape[1:] == (1, 8, 8)
        assert float(x.min()) >= 0.0 and float(x.max()) == 1.0
        assert set(y.tolist()) == set(range(10))  # stratified: every class in every split


def test_digits_splits_partition_the_original_images():
    dataset = load_dataset("digits")
    bunch = sklearn_digits()
    original = {row.tobytes(): label for row, label in zip((bunch.images / 16).astype(np.float32), bunch.target)}
    seen = []
    for x, y in ((dataset.x_train, dataset.y_train), (dataset.x_val, dataset.y_val), (dataset.x_test, dataset.y_test)):
        for image, label in zip(x[:, 0].numpy(), y.tolist()):
            key = image.tobytes()
            assert original[key] == label
            seen.append(key)
    # Every image appears once across the splits: no overlap, nothing lost (duplicates in the
    # source are counted as often as they occur there).
    assert sorted(seen) == sorted(row.tobytes() for row in (bunch.images / 16).astype(np.float32))


def test_digits_split_is_fixed():
    first, second = load_dataset("digits"), load_dataset("digits")
    assert torch.equal(first.y_test, second.y_test) and torch.equal(first.x_val, second.x_val)
