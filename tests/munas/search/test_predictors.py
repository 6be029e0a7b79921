import numpy as np
import pytest

from munas.errors import UserError
from munas.search.predictors import PREDICTORS, Prediction, Predictor, create_predictor


class Constant(Predictor):
    @property
    def fitted(self):
        return True

    def fit(self, candidates, errors):
        pass

    def predict(self, candidates):
        return Prediction(np.full(len(candidates), 0.1), np.zeros(len(candidates)))


def test_the_plugins_are_listed_from_their_entry_points():
    """(That listing imports none of them: tests/munas/search/test_screening.py.)"""
    assert {"gnn", "rf", "mlp"} <= set(PREDICTORS.names()) and "none" not in PREDICTORS.names()


def test_unknown_predictors_are_user_errors_that_list_the_valid_names():
    with pytest.raises(UserError, match=r"unknown predictor 'magic'; choose one of gnn, mlp, rf"):
        create_predictor("magic")
    assert "magic" not in PREDICTORS


def test_a_predictor_that_loads_no_file_refuses_one():
    with pytest.raises(UserError, match="Constant cannot start from a saved file"):
        Constant(init="gnn.pt")


def test_the_seed_or_a_shared_generator_drives_the_predictor():
    assert Constant(seed=4).rng.integers(10**9) == np.random.default_rng(4).integers(10**9)
    shared = np.random.default_rng(0)
    assert Constant(seed=shared).rng is shared
