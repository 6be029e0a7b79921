import gzip
import shutil

import numpy as np
import pytest

from munas.data import DataError, load_dataset
from munas.data.download import read_verified
from munas.data.testing import real_data_dir
from munas.data.idx import parse_idx
from munas.data.mnist import FOLDER, REMOTE_FILES


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
    shutil.copytree(real_data_dir("mnist") / FOLDER, tmp_path / FOLDER)
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
