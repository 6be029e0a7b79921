import shutil

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from munas.data import DataError, load_dataset
from munas.data.chars74k import FOLDER, image_paths
from munas.data.testing import check_splits, real_data_dir


@pytest.fixture
def digits_arrays():
    bunch = load_digits()
    images = (bunch.images * 255 / 16).astype(np.uint8)
    return {"x_train": images[:1500], "y_train": bunch.target[:1500],
            "x_test": images[1500:], "y_test": bunch.target[1500:]}


def one_line(error) -> str:
    assert "\n" not in str(error.value)
    return str(error.value)


def test_npz_loads_with_a_stratified_validation_split(tmp_path, digits_arrays):
    path = tmp_path / "digits.npz"
    np.savez(path, **digits_arrays)
    dataset = load_dataset(str(path))
    check_splits(dataset, (1350, 150, 297), (8, 8, 1), 10)
    assert dataset.name == "digits"
    torch.testing.assert_close(dataset.x_test[:, 0] * 255, torch.from_numpy(digits_arrays["x_test"]).float())
    assert torch.equal(torch.sort(torch.cat([dataset.y_train, dataset.y_val])).values,
                       torch.sort(torch.from_numpy(digits_arrays["y_train"])).values)


def test_npz_with_wrong_keys_names_them(tmp_path, digits_arrays):
    path = tmp_path / "bad.npz"
    np.savez(path, images=digits_arrays["x_train"], labels=digits_arrays["y_train"])
    with pytest.raises(DataError) as error:
        load_dataset(str(path))
    assert one_line(error) == (f"{path}: missing array(s) x_train, y_train, x_test, y_test (found: images, labels); "
                               "the .npz needs x_train, y_train, x_test, y_test")


def test_npz_with_object_arrays_is_refused_without_unpickling(tmp_path, digits_arrays):
    path = tmp_path / "objects.npz"
    np.savez(path, **{**digits_arrays, "y_test": np.array([{"a": 1}] * len(digits_arrays["y_test"]), dtype=object)})
    with pytest.raises(DataError, match="object arrays are refused"):
        load_dataset(str(path))


@pytest.mark.parametrize("change, problem", [
    ({"y_train": np.zeros(3, dtype=np.int64)}, "y_train must be 1500 integer labels"),
    ({"y_test": np.full(297, 0.5)}, "y_test must be 297 integer labels"),
    ({"x_test": np.zeros((297, 9, 8), dtype=np.uint8)}, r"x_train images are \(8, 8, 1\) but x_test images are \(9, 8, 1\)"),
    ({"x_train": np.zeros((1500, 64))}, r"x_train must be numeric images of shape \(n, h, w\)"),
    ({"x_train": np.full((1500, 8, 8), np.nan)}, "x_train contains NaN"),
])
def test_npz_with_inconsistent_arrays_is_refused(tmp_path, digits_arrays, change, problem):
    path = tmp_path / "bad.npz"
    np.savez(path, **{**digits_arrays, **change})
    with pytest.raises(DataError, match=problem):
        load_dataset(str(path))


def test_a_file_of_another_kind_is_not_an_npz(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("x_train,y_train\n")
    with pytest.raises(DataError, match=r"notes.txt: not an .npz file \(no zip archive\)"):
        load_dataset(str(path))


def test_a_single_array_file_is_not_an_npz(tmp_path, digits_arrays):
    path = tmp_path / "x_train.npy"
    np.save(path, digits_arrays["x_train"])
    with pytest.raises(DataError, match=r"a single array, not an \.npz archive"):
        load_dataset(str(path))


def test_truncated_npz_is_reported(tmp_path, digits_arrays):
    path = tmp_path / "cut.npz"
    np.savez(path, **digits_arrays)
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(DataError) as error:
        load_dataset(str(path))
    assert one_line(error).startswith(f"{path}: not a readable .npz file")


@pytest.fixture
def image_folder(tmp_path, monkeypatch):
    """Three real Chars74K classes (20 images each) laid out as class sub-folders."""
    found = image_paths(real_data_dir("chars74k") / FOLDER)
    monkeypatch.setenv("MUNAS_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "letters"
    for name, sample in (("A", "Sample011"), ("B", "Sample012"), ("C", "Sample013")):
        (root / name).mkdir(parents=True)
        for path in [path for path, _ in found if path.parent.name == sample][:20]:
            shutil.copy(path, root / name / path.name)
    return root


def test_image_folder_loads_with_labels_in_folder_order(image_folder):
    dataset = load_dataset(str(image_folder))
    # 20 % of 60 for test (12), then ceil(10 % of 48) = 5 for validation.
    assert dataset.split_sizes == (43, 5, 12) and dataset.num_classes == 3 and dataset.input_shape[2] == 3
    assert torch.bincount(dataset.y_test).tolist() == [4, 4, 4]
    assert (torch.bincount(dataset.y_train) + torch.bincount(dataset.y_val)).tolist() == [16, 16, 16]
    assert "classes in label order: A, B, C" in dataset.notes
    assert float(dataset.x_train.min()) >= 0.0 and float(dataset.x_train.max()) <= 1.0


def test_empty_folder_says_what_to_put_in_it(tmp_path):
    (tmp_path / "empty" / "cat").mkdir(parents=True)
    with pytest.raises(DataError) as error:
        load_dataset(str(tmp_path / "empty"))
    assert one_line(error).startswith(f"{tmp_path / 'empty'} has no class sub-folders with images; put one sub-folder")


def test_folder_with_one_class_is_refused(image_folder):
    for name in ("B", "C"):
        shutil.rmtree(image_folder / name)
    with pytest.raises(DataError, match="only one class sub-folder"):
        load_dataset(str(image_folder))


# Silent-wrong cases (issue 15): each was accepted and gave wrong numbers without a word.


def test_the_same_pixels_give_the_same_input_in_any_integer_dtype(tmp_path, digits_arrays):
    path = tmp_path / "mixed.npz"
    np.savez(path, **{**digits_arrays, "x_test": digits_arrays["x_test"].astype(np.int64)})
    dataset = load_dataset(str(path))
    torch.testing.assert_close(dataset.x_test[:, 0] * 255, torch.from_numpy(digits_arrays["x_test"]).float())
    assert float(dataset.x_test.max()) <= 1.0 and float(dataset.x_train.max()) <= 1.0


def test_integer_and_float_splits_together_are_refused(tmp_path, digits_arrays):
    path = tmp_path / "mixed.npz"
    np.savez(path, **{**digits_arrays, "x_test": digits_arrays["x_test"].astype(np.float64)})
    with pytest.raises(DataError) as error:
        load_dataset(str(path))
    assert one_line(error).startswith(f"{path}: x_train is uint8 but x_test is float64; integer images are scaled")


def test_integer_images_beyond_8_bits_are_refused(tmp_path, digits_arrays):
    path = tmp_path / "wide.npz"
    np.savez(path, **{**digits_arrays, "x_train": digits_arrays["x_train"].astype(np.int32) * 300})
    with pytest.raises(DataError, match="x_train holds integers from 0 to 76500"):
        load_dataset(str(path))


def test_a_label_only_in_the_test_split_is_named(tmp_path, digits_arrays):
    path = tmp_path / "unseen.npz"
    y_test = digits_arrays["y_test"].copy()
    y_test[:2] = 10
    np.savez(path, **{**digits_arrays, "y_test": y_test})
    with pytest.raises(DataError) as error:
        load_dataset(str(path))
    assert one_line(error).startswith(f"{path}: y_test has label(s) 10 that y_train never has (its labels are 0..9)")


def test_stray_huge_labels_are_named_not_built_into_the_head(tmp_path, digits_arrays):
    path = tmp_path / "stray.npz"
    y_train = digits_arrays["y_train"].copy()
    y_train[[3, 50, 700]] = 10**6
    np.savez(path, **{**digits_arrays, "y_train": y_train})
    with pytest.raises(DataError) as error:
        load_dataset(str(path))
    assert "label(s) 1000000 lie beyond" in one_line(error)


def test_a_class_missing_from_training_is_named(tmp_path, digits_arrays):
    path = tmp_path / "gap.npz"
    keep = digits_arrays["y_train"] != 3
    np.savez(path, **{**digits_arrays, "x_train": digits_arrays["x_train"][keep],
                      "y_train": digits_arrays["y_train"][keep]})
    with pytest.raises(DataError, match=r"label\(s\) 9 lie beyond and 3 have no sample; renumber the classes 0\.\.8"):
        load_dataset(str(path))


@pytest.mark.parametrize("split", ["train", "test"])
def test_an_empty_split_is_refused(tmp_path, digits_arrays, split):
    path = tmp_path / "empty.npz"
    np.savez(path, **{**digits_arrays, f"x_{split}": np.zeros((0, 8, 8), np.uint8),
                      f"y_{split}": np.zeros(0, np.int64)})
    with pytest.raises(DataError) as error:
        load_dataset(str(path))
    assert one_line(error) == f"{path}: x_{split} is empty (0 images); every split needs samples"


def test_an_empty_validation_split_is_refused_for_every_loader():
    from munas.data.dataset import make_dataset

    x, y = np.zeros((4, 2, 2, 1), np.float32), np.array([0, 1, 0, 1])
    with pytest.raises(DataError, match="tiny: the val split is empty"):
        make_dataset("tiny", {"train": (x, y, np.arange(4)), "val": (x, y, np.arange(0)), "test": (x, y, np.arange(4))},
                     num_classes=2)


def test_labels_too_large_for_int64_are_refused(tmp_path, digits_arrays):
    path = tmp_path / "huge.npz"
    y_train = digits_arrays["y_train"].astype(np.float64)
    y_train[0] = 1e300
    np.savez(path, **{**digits_arrays, "y_train": y_train})
    with pytest.raises(DataError, match="y_train must be 1500 integer labels"):
        load_dataset(str(path))
