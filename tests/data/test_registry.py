import dataclasses
import json
import re
import subprocess
import sys

import numpy as np
import pytest

from munas.data import DataError, list_datasets, load_dataset, register_dataset, search_defaults
from munas.data.registry import get_source
from munas.data.testing import load_real_dataset
from munas.data.user import USER_DEFAULTS

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
        register_dataset("digits", input_shape=(1, 1, 1), num_classes=2, description="",
                         defaults=USER_DEFAULTS)(lambda d, download: None)


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


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_data_set_declares_a_complete_definition(name, tmp_path):
    """Like timm's test of every registered model: each declaration is whole and consistent."""
    source = get_source(name)
    assert source.name == name and callable(source.loader)
    assert source.description and "\n" not in source.description
    assert all(isinstance(n, int) and n > 0 for n in source.input_shape) and source.num_classes >= 2
    defaults = source.defaults
    assert defaults is not USER_DEFAULTS, "a built-in set declares its own defaults"
    preset = defaults.preset.validate()
    assert json.loads(json.dumps(dataclasses.asdict(preset)))["epochs"] == preset.epochs
    for bounds in (defaults.bounds_for(pruning=True), defaults.bounds_for(pruning=False)):
        values = bounds.as_dict()
        assert all(value is not None and value > 0 for value in values.values()), values
        assert values["error"] < 1
    size = defaults.size
    assert size.budget >= size.population >= size.sample >= 1
    assert size.epochs is None or 1 <= size.epochs <= preset.epochs
    # Where it looks, what must be there, and what is checked agree: a set with a folder needs
    # files (so an empty data directory does not hold it); a built-in one needs none.
    if source.folder is None:
        assert not source.requires and not source.files and source.is_present(tmp_path)
    else:
        assert source.requires and not source.is_present(tmp_path)
        assert source.location(tmp_path).startswith(str(tmp_path))
    for spec in source.files:
        assert re.fullmatch(r"[0-9a-f]{64}", spec.sha256) and (spec.url is None or spec.url.startswith("https://"))


def test_built_in_sets_do_not_share_defaults():
    assert len({id(get_source(name).defaults) for name in BUILT_IN}) == len(BUILT_IN)


def test_defaults_of_user_data_and_of_unknown_names(tmp_path):
    path = tmp_path / "mine.npz"
    np.savez(path, x_train=np.zeros((4, 2, 2)), y_train=np.arange(4) % 2, x_test=np.zeros((2, 2, 2)),
             y_test=np.arange(2))
    assert search_defaults(str(path)) is USER_DEFAULTS
    assert search_defaults(str(tmp_path)) is USER_DEFAULTS  # a folder of class sub-folders
    with pytest.raises(DataError, match="unknown data set 'mnsit'"):
        search_defaults("mnsit")
    with pytest.raises(DataError, match="no such file or folder"):
        search_defaults(str(tmp_path / "missing.npz"))


def test_listing_and_describing_data_sets_imports_no_torch():
    code = ("import sys; from munas.data import list_datasets, search_defaults; "
            "from munas.data.registry import get_source; "
            "[(get_source(n), search_defaults(n)) for n in list_datasets()]; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'sklearn', 'PIL')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"
