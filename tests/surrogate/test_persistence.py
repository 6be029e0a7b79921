import json
import os
import pickle

import numpy as np
import pytest
import torch

from munas.space.sampling import random_architecture
from munas.surrogate.encoding import encode
from munas.surrogate.ensemble import SurrogateEnsemble
from munas.surrogate.model import ModelConfig
from munas.surrogate.persistence import SurrogateFileError, load_ensemble, read_header, save_ensemble


def _graphs():
    rng = np.random.default_rng(2)
    return [encode(random_architecture((8, 8, 1), 10, rng), 0.3) for _ in range(5)]


def test_round_trip_predicts_the_same(tmp_path):
    ensemble = SurrogateEnsemble.untrained(3, ModelConfig(hidden=16, layers=2), seed=4)
    ensemble.target_mean, ensemble.target_std = 0.25, 0.05
    path = tmp_path / "sub" / "model.pt"
    save_ensemble(ensemble, path, metadata={"dataset": "digits"})
    loaded = load_ensemble(path)
    graphs = _graphs()
    np.testing.assert_array_equal(loaded.predict(graphs).mean, ensemble.predict(graphs).mean)
    assert loaded.config == ModelConfig(hidden=16, layers=2)
    assert read_header(path)["metadata"] == {"dataset": "digits"}


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_a_file_that_runs_code_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    torch.save({"header": "{}", "members": [_Exploit()]}, path, pickle_module=pickle)
    with pytest.raises(SurrogateFileError, match="not a surrogate file that loads safely"):
        load_ensemble(path)
    assert not (tmp_path / "pwned").exists()


def test_other_encodings_and_foreign_files_are_refused(tmp_path):
    path = tmp_path / "model.pt"
    save_ensemble(SurrogateEnsemble.untrained(1), path)
    payload = torch.load(path, weights_only=True)
    header = json.loads(payload["header"])
    header["features"]["node"] = header["features"]["node"][:-1]
    payload["header"] = json.dumps(header)
    torch.save(payload, path)
    with pytest.raises(SurrogateFileError, match="another version of the graph encoding"):
        load_ensemble(path)
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(SurrogateFileError, match="not a munas surrogate file"):
        load_ensemble(path)
    with pytest.raises(SurrogateFileError, match="no such surrogate file"):
        load_ensemble(tmp_path / "missing.pt")
