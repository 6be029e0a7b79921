import gzip
import shutil

import numpy as np
import pytest
import torch

from munas.data import DataError, load_dataset
from munas.data.download import read_verified
from munas.data.idx import IDX_SETS, parse_idx
from munas.data.testing import check_splits, duplicates_across_splits, load_real_dataset, real_data_dir

MNIST = IDX_SETS["mnist"]
REMOTE_FILES = MNIST.remote_files


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def test_parse_idx_round_trip():
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(parse_idx(idx_bytes(array), "x"), array)


@pytest.mark.parametrize("content, problem", [
    (b"\x00\x00\x0d\x01" + b"\x00" * 8, "bad magic"),
    (idx_bytes(np.zeros((2, 3), dtype=np.uint8))[:-1], r"promises shape \(2, 3\)"),
    (b"\x00\x00\x08\x03\x00", "header cut short"),
    (b"\x00\x00", "bad magic"),
])
def test_parse_idx_rejects_malformed_content(content, problem):
    with pytest.raises(DataError, match=problem):
        parse_idx(content, "some.idx")


@pytest.fixture
def mnist_copy(tmp_path, monkeypatch):
    """A private copy of the real MNIST files, so tests can damage them."""
    shutil.copytree(real_data_dir("mnist") / MNIST.folder, tmp_path / MNIST.folder)
    monkeypatch.setenv("MUNAS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_missing_file_says_where_it_goes(mnist_copy):
    target = mnist_copy / REMOTE_FILES["test_labels"].path
    target.unlink()
    with pytest.raises(DataError) as error:
        load_dataset("mnist", data_dir=mnist_copy, download=False)
    message = one_line(error)
    assert f"{target} is missing" in message and REMOTE_FILES["test_labels"].url in message


def test_truncated_gzip_is_reported(mnist_copy):
    target = mnist_copy / REMOTE_FILES["train_labels"].path
    target.write_bytes(target.read_bytes()[:-100])
    with pytest.raises(DataError) as error:
        load_dataset("mnist", data_dir=mnist_copy, download=False)
    assert f"{target}: not a complete gzip file" in one_line(error)


def test_wrong_checksum_is_reported_and_not_used(mnist_copy):
    target = mnist_copy / REMOTE_FILES["test_labels"].path
    labels = bytearray(gzip.decompress(target.read_bytes()))
    labels[8] = (labels[8] + 1) % 10  # one label changed: still a valid IDX file
    target.write_bytes(gzip.compress(bytes(labels)))
    with pytest.raises(DataError) as error:
        load_dataset("mnist", data_dir=mnist_copy, download=False)
    message = one_line(error)
    assert f"{target}: sha256 of the decompressed content is" in message
    assert "delete it to download it again" in message


def test_recompressed_file_with_original_content_is_accepted(mnist_copy):
    # Distributions recompress the .gz files: other bytes, same content, same checksum.
    target = mnist_copy / REMOTE_FILES["test_labels"].path
    original = target.read_bytes()
    target.write_bytes(gzip.compress(gzip.decompress(original), compresslevel=1, mtime=0))
    assert target.read_bytes() != original
    content = read_verified(REMOTE_FILES["test_labels"], mnist_copy, download=False)
    assert content == gzip.decompress(original)


def test_damaged_file_is_caught_even_after_a_cached_load(mnist_copy):
    load_dataset("mnist", data_dir=mnist_copy, download=False)  # fills the decode cache
    target = mnist_copy / REMOTE_FILES["train_labels"].path
    target.write_bytes(target.read_bytes()[:1000])
    with pytest.raises(DataError, match="not a complete gzip file"):
        load_dataset("mnist", data_dir=mnist_copy, download=False)


def test_the_two_sets_differ_only_in_their_table_entries():
    assert sorted(IDX_SETS) == ["fashion_mnist", "mnist"]
    paths = {name: [spec.path for spec in idx_set.remote_files.values()] for name, idx_set in IDX_SETS.items()}
    assert paths["mnist"][0] == "mnist/train-images-idx3-ubyte.gz"
    assert paths["fashion_mnist"][0] == "fashion-mnist/train-images-idx3-ubyte.gz"
    assert all(spec.url.startswith("https://") and spec.gzipped
               for idx_set in IDX_SETS.values() for spec in idx_set.remote_files.values())


@pytest.fixture(scope="module")
def mnist():
    return load_real_dataset("mnist")


@pytest.fixture(scope="module")
def fashion():
    return load_real_dataset("fashion_mnist")


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
