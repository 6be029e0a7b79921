import numpy as np
import pytest

from munas.search.fitness import Bounds, ScalarisedFitness, normalise, random_fitness

BOUNDS = Bounds(0.1, 2_000, 4_000, 30_000_000)


def test_fitness_is_minus_the_weighted_worst_normalised_objective():
    fitness = ScalarisedFitness((0.5, 1.0, 1.0, 1.0), BOUNDS)
    # normalised: 0.5, 0.5, 0.5, 0.1; weighted: 1.0, 0.5, 0.5, 0.1
    assert fitness((0.05, 1_000, 2_000, 3_000_000)) == pytest.approx(-1.0)
    fitness = ScalarisedFitness((1.0, 0.25, 1.0, 1.0), BOUNDS)
    assert fitness((0.05, 1_000, 2_000, 3_000_000)) == pytest.approx(-2.0)


def test_normalised_values_are_capped_at_ten_before_weighting():
    assert normalise((5.0, 100, 100, 1), BOUNDS)[0] == 10.0
    fitness = ScalarisedFitness((0.5, 1.0, 1.0, 1.0), BOUNDS)
    assert fitness((5.0, 1, 1, 1)) == pytest.approx(-20.0)


def test_unbounded_objectives_are_ignored():
    bounds = Bounds(0.1, None, 4_000, None)
    fitness = ScalarisedFitness((1.0, 0.01, 1.0, 0.01), bounds)
    assert fitness((0.05, 10**9, 2_000, 10**12)) == pytest.approx(-0.5)
    assert np.isnan(normalise((0.05, 1, 1, 1), bounds)[1])


def test_violating_a_bound_costs_more_than_meeting_it():
    fitness = ScalarisedFitness((1.0, 1.0, 1.0, 1.0), BOUNDS)
    within = fitness((0.09, 1_900, 3_900, 1_000))
    over = fitness((0.05, 2_100, 1_000, 1_000))
    assert within > over


def test_lambdas_have_a_floor_and_floor_zero_is_the_reference_draw():
    rng = np.random.default_rng(1)
    draws = np.array([random_fitness(BOUNDS, rng).lambdas for _ in range(2000)])
    assert draws.min() >= 0.05 and draws.max() <= 1.0
    assert draws.min() < 0.06  # the floor is reached, not a clamp far above it
    a, b = np.random.default_rng(7), np.random.default_rng(7)
    assert random_fitness(BOUNDS, a, lambda_floor=0.0).lambdas == tuple(b.uniform(0, 1, size=4))


def test_a_fitness_needs_a_bound():
    with pytest.raises(ValueError):
        random_fitness(Bounds(None, None, None, None), np.random.default_rng(0))


def test_within_bounds_is_inclusive():
    assert BOUNDS.within((0.1, 2_000, 4_000, 30_000_000))
    assert not BOUNDS.within((0.1, 2_001, 4_000, 30_000_000))
    assert Bounds(None, None, None, 5).within((0.9, 10**9, 10**9, 5))
