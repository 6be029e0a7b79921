"""Multi-fidelity promotion: rung length, the curve-conditioned decision, proposals kept for --resume."""

from __future__ import annotations

import dataclasses

import pytest

from munas.errors import UserError
from munas.resources import compute_resources
from munas.search.candidates import Candidate
from munas.search.fidelity import Promotion, proposal_from_json, proposal_to_json, rung_epochs

from .factories import ARCHITECTURE, evaluated


def test_the_rung_is_a_quarter_of_the_epochs_and_leaves_room_to_continue():
    assert [rung_epochs(e) for e in (2, 4, 8, 20, 45)] == [1, 1, 2, 5, 11]
    with pytest.raises(UserError, match="at least 2 epochs"):
        rung_epochs(1)


def finished(candidate_id, final_error, rung_error, objectives=(1000, 1000, 1000)):
    """A finished candidate of 8 epochs whose first two (the rung) reached ``rung_error``."""
    candidate = evaluated(candidate_id, (final_error, *objectives))
    curve = (0.9, rung_error, *[final_error] * 6)
    return dataclasses.replace(candidate, curve=curve)


def child(resources=(1000, 1000, 1000)):
    pmu, size, macs = resources
    exact = dataclasses.replace(compute_resources(ARCHITECTURE, "tflm"), pmu=pmu, model_size=size, macs=macs)
    return Candidate(ARCHITECTURE, 0.3, exact)


# finished candidates whose final error is about rung error - 0.1: a curve model learns that
HISTORY = [finished(i, final_error=0.05 + 0.02 * i, rung_error=0.15 + 0.02 * i) for i in range(10)]


def test_every_child_is_promoted_until_enough_candidates_have_finished():
    decision = Promotion(rung=2, epochs=8, min_finished=20).decide(child(), (0.9, 0.9), HISTORY, HISTORY)
    assert decision.promote and decision.estimated_error is None


def test_a_child_whose_extrapolated_error_is_dominated_is_stopped():
    decision = Promotion(rung=2, epochs=8).decide(child(), (0.9, 0.6), HISTORY, HISTORY)
    assert not decision.promote
    assert decision.estimated_error == pytest.approx(0.5, abs=0.05)


def test_a_promising_curve_or_smaller_resources_are_promoted():
    promotion = Promotion(rung=2, epochs=8)
    assert promotion.decide(child(), (0.9, 0.12), HISTORY, HISTORY).promote  # better than every member
    # a bad curve, but smaller than every member on PMU: nobody dominates it
    assert promotion.decide(child((500, 1000, 1000)), (0.9, 0.6), HISTORY, HISTORY).promote


def test_a_proposal_survives_its_json_form():
    proposal = dataclasses.replace(child(), parent_id=3, predicted_error=0.2, predicted_error_std=0.01,
                                   proxies={"synflow": 1.0})
    values = proposal_to_json(proposal, "2026-01-01T00:00:00.000+00:00")
    restored, submitted_at = proposal_from_json(values, "tflm")
    assert submitted_at == "2026-01-01T00:00:00.000+00:00"
    assert (restored.architecture, restored.sparsity, restored.parent_id, restored.predicted_error,
            restored.proxies) == (ARCHITECTURE, 0.3, 3, 0.2, {"synflow": 1.0})
