import pickle
import shutil

import numpy as np
import pytest
import torch

from munas.data import DataError, load_dataset
from munas.data.cifar10 import FOLDER, MEAN, STD, read_batch
from munas.data.testing import check_splits, duplicates_across_splits, load_real_dataset, real_data_dir


@pytest.fixture(scope="module")
def cifar():
    return load_real_dataset("cifar10")


def present_batches():
    folder = real_data_dir("cifar10") / FOLDER
    return [path for path in sorted(folder.glob("data_batch_[1-5]"))], folder / "test_batch"


def test_cifar10_uses_the_batches_present_and_says_so(cifar):
    train_paths, test_path = present_batches()
    train_images = sum(len(read_batch(path)[1]) for path in train_paths)
    test_images = len(read_batch(test_path)[1])
    val = round(train_images * 0.1)
    check_splits(cifar, (train_images - val, val, test_images), (32, 32, 3), 10)
    assert duplicates_across_splits(cifar) == 0
    for path in train_paths:
        assert path.name in cifar.notes
    assert cifar.augmentation.horizontal_flip and cifar.augmentation.shift_pixels == 4


def test_cifar10_is_normalised_per_channel(cifar):
    # Undo the per-channel standardisation: the result must be whole pixel values 0..255.
    mean, std = torch.from_numpy(MEAN)[:, None, None], torch.from_numpy(STD)[:, None, None]
    pixels = (cifar.x_test * std + mean) * 255
    assert torch.allclose(pixels, pixels.round(), atol=1e-3)
    assert float(pixels.min()) > -0.01 and float(pixels.max()) < 255.01
    _, test_path = present_batches()
    images, labels = read_batch(test_path)
    assert torch.allclose(pixels.round(), torch.from_numpy(images.transpose(0, 3, 1, 2)).float(), atol=1e-3)
    assert torch.equal(cifar.y_test, torch.from_numpy(labels))


def test_partial_batches_are_reported_as_not_canonical(cifar):
    if "not the canonical file" not in cifar.notes:
        pytest.skip("the CIFAR-10 batches present are the canonical files")
    assert "of 10000 images" in cifar.notes


@pytest.fixture
def cifar_copy(tmp_path, monkeypatch):
    train_paths, test_path = present_batches()
    folder = tmp_path / FOLDER
    folder.mkdir()
    shutil.copy(train_paths[0], folder / train_paths[0].name)
    shutil.copy(test_path, folder / "test_batch")
    monkeypatch.setenv("MUNAS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def test_missing_test_batch_says_where_it_goes(cifar_copy):
    (cifar_copy / FOLDER / "test_batch").unlink()
    with pytest.raises(DataError) as error:
        load_dataset("cifar10", data_dir=cifar_copy, download=False)
    assert str(error.value).startswith(f"{cifar_copy / FOLDER / 'test_batch'} is missing: put the test batch there")


def test_missing_data_set_names_the_folder_and_the_archive(tmp_path):
    with pytest.raises(DataError) as error:
        load_dataset("cifar10", data_dir=tmp_path, download=False)
    message = str(error.value)
    assert "\n" not in message and str(tmp_path / FOLDER) in message and "cifar-10-python.tar.gz" in message


def test_truncated_batch_is_reported(cifar_copy):
    path = cifar_copy / FOLDER / "test_batch"
    path.write_bytes(path.read_bytes()[:500_000])
    with pytest.raises(DataError, match="truncated or damaged"):
        load_dataset("cifar10", data_dir=cifar_copy, download=False)


def test_malicious_batch_is_refused(cifar_copy):
    class Payload:
        def __reduce__(self):
            return (exec, ("raise SystemExit('this must never run')",))

    (cifar_copy / FOLDER / "test_batch").write_bytes(pickle.dumps({b"data": Payload()}, protocol=2))
    with pytest.raises(DataError, match=r"refused to unpickle: the file refers to (__builtin__|builtins)\.exec"):
        load_dataset("cifar10", data_dir=cifar_copy, download=False)


def test_batch_with_wrong_content_is_reported(cifar_copy):
    path = cifar_copy / FOLDER / "test_batch"
    path.write_bytes(pickle.dumps({b"data": np.zeros((2, 3072), dtype=np.uint8), b"labels": [1, 12]}, protocol=2))
    with pytest.raises(DataError, match=r"'labels' is not a list of 2 labels in 0\.\.9"):
        load_dataset("cifar10", data_dir=cifar_copy, download=False)


def test_archive_is_downloaded_checked_and_extracted_once(tmp_path, monkeypatch):
    import hashlib
    import io
    import tarfile

    from munas.data.download import RemoteFile

    train_paths, test_path = present_batches()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in (train_paths[0], test_path):
            tar.add(path, arcname=f"{FOLDER}/{path.name}")
    archive = buffer.getvalue()
    url = "https://example.org/cifar-10-python.tar.gz"
    monkeypatch.setattr("munas.data.cifar10.ARCHIVE", RemoteFile("cifar-10-python.tar.gz", hashlib.sha256(archive).hexdigest(), url))
    requests = []

    def fetch(requested, out):
        requests.append(requested)
        out.write(archive)

    monkeypatch.setattr("munas.data.download.https_fetch", fetch)
    dataset = load_dataset("cifar10", data_dir=tmp_path)
    assert requests == [url]
    assert sorted(p.name for p in (tmp_path / FOLDER).iterdir()) == sorted([train_paths[0].name, "test_batch"])
    assert (tmp_path / "cifar-10-python.tar.gz").read_bytes() == archive
    again = load_dataset("cifar10", data_dir=tmp_path)
    assert requests == [url] and torch.equal(dataset.x_test, again.x_test)
