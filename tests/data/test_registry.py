import pytest

from munas.data import DataError, list_datasets, load_dataset, register_dataset
from munas.data.registry import get_source
from munas.data.testing import load_real_dataset

BUILT_IN = ["chars74k", "cifar10", "digits", "fashion_mnist", "mnist", "speech_commands"]


def test_every_built_in_data_set_is_listed():
    assert list_datasets() == BUILT_IN


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(DataError) as error:
        load_dataset("imagenet")
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("unknown data set 'imagenet': use one of " + ", ".join(BUILT_IN))


def test_missing_path_is_reported_as_a_path(tmp_path):
    with pytest.raises(DataError, match=f"no such file or folder: {tmp_path / 'x.npz'}"):
        load_dataset(str(tmp_path / "x.npz"))


def test_registering_a_name_twice_is_an_error():
    assert "digits" in list_datasets()  # the built-ins are registered first, whatever ran before
    with pytest.raises(ValueError, match="registered twice"):
        register_dataset("digits", input_shape=(1, 1, 1), num_classes=2, description="")(lambda d, download: None)


def test_presence_follows_the_files(tmp_path):
    assert not get_source("mnist").is_present(tmp_path)
    assert get_source("digits").is_present(tmp_path)
    assert get_source("cifar10").location(tmp_path) == str(tmp_path / "cifar-10-batches-py")


def test_missing_data_set_is_one_line_saying_where_it_goes(tmp_path):
    for name in ("chars74k", "speech_commands"):
        with pytest.raises(DataError) as error:
            load_dataset(name, data_dir=tmp_path, download=False)
        message = str(error.value)
        assert "\n" not in message and "is missing" in message and str(tmp_path) in message


def test_load_real_dataset_skips_or_fails_when_the_set_is_absent(tmp_path, monkeypatch):
    monkeypatch.setenv("MUNAS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("MUNAS_REQUIRE_DATA", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not present"):
        load_real_dataset("mnist")
    monkeypatch.setenv("MUNAS_REQUIRE_DATA", "1")
    with pytest.raises(pytest.fail.Exception, match="not present"):
        load_real_dataset("mnist")
    assert load_real_dataset("digits").num_classes == 10
