import hashlib

import pytest
import torch

from munas.data.chars74k import FOLDER, image_paths
from munas.data.download import resolve_data_dir
from munas.data.testing import check_splits, duplicates_across_splits, load_real_dataset, real_data_dir


@pytest.fixture(scope="module")
def chars():
    return load_real_dataset("chars74k")


def test_chars74k_splits(chars):
    n = len(image_paths(resolve_data_dir() / FOLDER))
    test, val = round(n * 2000 / 7705), round(n * 705 / 7705)
    check_splits(chars, (n - test - val, val, test), (48, 48, 3), 62)
    if n == 7705:
        assert chars.split_sizes == (5000, 705, 2000) and chars.notes == ""
    assert chars.augmentation.shift_pixels == 4 and not chars.augmentation.horizontal_flip


def test_chars74k_split_is_stratified(chars):
    total = sum(torch.bincount(y, minlength=62) for y in (chars.y_train, chars.y_val, chars.y_test))
    share = len(chars.y_test) / int(total.sum())
    assert torch.all((torch.bincount(chars.y_test, minlength=62) - total * share).abs() <= 1)


def test_chars74k_samples_appear_in_one_split_only(chars):
    # The source holds a few byte-identical files; every sample found in two splits must be one
    # of those, so the count of cross-split duplicates is at most the count of duplicate files.
    digests = [hashlib.sha256(path.read_bytes()).hexdigest() for path, _ in image_paths(resolve_data_dir() / FOLDER)]
    duplicate_files = len(digests) - len(set(digests))
    assert duplicates_across_splits(chars) <= duplicate_files


def test_chars74k_labels_follow_the_sample_number():
    found = image_paths(real_data_dir("chars74k") / FOLDER)
    assert [path for path, _ in found] == sorted(path for path, _ in found)
    for path, label in found[:: max(1, len(found) // 50)]:
        assert label == int(path.parent.name[len("Sample"):]) - 1
    assert {label for _, label in found} <= set(range(62))
