import numpy as np
import pytest
import torch

from munas.surrogate.ensemble import SurrogateEnsemble
from munas.surrogate.metrics import score
from munas.surrogate.training import TrainingConfig, cross_validate, fit_ensemble, pairwise_ranking_loss

SMALL = TrainingConfig(members=2, epochs=80)


def test_training_on_real_candidates_ranks_unseen_ones_better_than_untrained(digits_graphs):
    graphs, errors = digits_graphs
    rng = np.random.default_rng(1)
    order = rng.permutation(len(graphs))
    train, test = order[:90], order[90:]
    trained = fit_ensemble([graphs[i] for i in train], errors[train], SMALL, rng)
    untrained = SurrogateEnsemble.untrained(SMALL.members, SMALL.model, seed=1)
    test_graphs = [graphs[i] for i in test]
    tau_trained = score(trained.predict(test_graphs).mean, errors[test]).kendall_tau
    tau_untrained = score(untrained.predict(test_graphs).mean, errors[test]).kendall_tau
    assert tau_trained >= 0.4
    assert tau_trained > tau_untrained + 0.3


def test_ranking_loss_matches_the_logistic_formula():
    predicted = torch.tensor([0.3, -0.2, 1.0])
    target = torch.tensor([0.1, 0.5, 0.5])  # pairs with e_i > e_j: (1, 0), (2, 0)
    expected = (torch.nn.functional.softplus(-(predicted[1] - predicted[0]))
                + torch.nn.functional.softplus(-(predicted[2] - predicted[0]))) / 2
    torch.testing.assert_close(pairwise_ranking_loss(predicted, target), expected)
    assert pairwise_ranking_loss(predicted, torch.zeros(3)) == 0.0  # all tied: nothing to order


def test_warm_start_continues_from_the_given_members(digits_graphs):
    graphs, errors = digits_graphs
    rng = np.random.default_rng(0)
    first = fit_ensemble(graphs[:30], errors[:30], TrainingConfig(members=2, epochs=5), rng)
    frozen = TrainingConfig(members=2, epochs=5, warm_epochs=0)
    warm = fit_ensemble(graphs[:40], errors[:40], frozen, rng, init=first)
    for before, after in zip(first.members, warm.members):
        for (name, a), (_, b) in zip(before.named_parameters(), after.named_parameters()):
            torch.testing.assert_close(a, b, msg=name)
        assert after is not before  # the previous ensemble is not modified in place
    with pytest.raises(ValueError, match="same number of members"):
        fit_ensemble(graphs[:40], errors[:40], TrainingConfig(members=3), rng, init=first)


def test_cross_validation_predicts_every_candidate_once_out_of_fold(digits_graphs):
    graphs, errors = digits_graphs
    result = cross_validate(graphs[:24], errors[:24], 3, TrainingConfig(members=1, epochs=3), np.random.default_rng(0))
    assert result.predicted.shape == (24,) and np.isfinite(result.predicted).all()
    np.testing.assert_array_equal(result.true, errors[:24])
    assert result.scores == score(result.predicted, errors[:24])
    with pytest.raises(ValueError, match="folds"):
        cross_validate(graphs[:5], errors[:5], 6, TrainingConfig(members=1, epochs=1), np.random.default_rng(0))
