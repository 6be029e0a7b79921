import numpy as np
import pytest

from munas.surrogate.metrics import score


def test_perfect_and_reversed_rankings():
    true = np.array([0.1, 0.4, 0.2, 0.9, 0.5])
    assert score(true * 2 + 1, true).kendall_tau == pytest.approx(1.0)
    assert score(-true, true).kendall_tau == pytest.approx(-1.0)
    assert score(-true, true).spearman_rho == pytest.approx(-1.0)


def test_mae_and_one_discordant_pair():
    true = [0.1, 0.2, 0.3, 0.4]
    predicted = [0.1, 0.3, 0.2, 0.4]  # one of six pairs swapped: tau = (5 - 1) / 6
    result = score(predicted, true)
    assert result.kendall_tau == pytest.approx(4 / 6)
    assert result.mae == pytest.approx(0.05)


def test_constant_prediction_ranks_nothing():
    assert score([0.3, 0.3, 0.3], [0.1, 0.2, 0.3]).kendall_tau == 0.0


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError):
        score([0.1, 0.2], [0.1, 0.2, 0.3])
