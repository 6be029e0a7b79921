import os
import pickle

import numpy as np
import pytest

from munas.data import DataError
from munas.data.safe_pickle import load_restricted_pickle


class RunsCommand:
    """Pickles to a call of os.system: what a malicious 'batch' would contain."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_numpy_arrays_lists_and_bytes_are_admitted():
    batch = {b"data": np.arange(12, dtype=np.uint8).reshape(2, 6), b"labels": [3, 7], b"batch_label": b"x"}
    loaded = load_restricted_pickle(pickle.dumps(batch, protocol=2), "batch")
    assert np.array_equal(loaded[b"data"], batch[b"data"]) and loaded[b"labels"] == [3, 7]


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_a_pickle_that_would_run_code_is_refused(tmp_path, protocol):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({b"data": RunsCommand(marker), b"labels": []}, protocol=protocol)
    with pytest.raises(DataError) as error:
        load_restricted_pickle(payload, "data_batch_1")
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("data_batch_1: refused to unpickle: the file refers to posix.system")
    assert not marker.exists()


def test_a_pickle_naming_any_other_numpy_function_is_refused():
    payload = pickle.dumps({b"f": np.load}, protocol=2)
    with pytest.raises(DataError, match="refers to numpy"):
        load_restricted_pickle(payload, "batch")


def test_a_truncated_pickle_is_a_data_error():
    payload = pickle.dumps({b"data": np.zeros((4, 3072), dtype=np.uint8)}, protocol=2)
    with pytest.raises(DataError, match="truncated or damaged"):
        load_restricted_pickle(payload[: len(payload) // 2], "batch")
