import itertools

import numpy as np
import pytest

from munas.search.fitness import Bounds
from munas.search.pareto import (
    hypervolume,
    hypervolume_curve,
    non_dominated_mask,
    normalised_hypervolume,
    pareto_front,
)

from .factories import evaluated


def brute_force_non_dominated(points):
    keep = []
    for i, p in enumerate(points):
        dominated = any(all(q <= p) and any(q < p) for j, q in enumerate(points) if j != i)
        keep.append(not dominated)
    return np.array(keep)


def brute_force_hypervolume(points):
    """Inclusion–exclusion over subsets: exact volume of the union of boxes [p, 1]."""
    total = 0.0
    for size in range(1, len(points) + 1):
        for subset in itertools.combinations(points, size):
            corner = np.max(subset, axis=0)
            total += (-1) ** (size + 1) * np.prod(1.0 - corner)
    return total


@pytest.mark.parametrize("seed", range(20))
def test_non_dominated_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    points = rng.integers(0, 4, size=(int(rng.integers(1, 30)), int(rng.integers(2, 5)))).astype(float)
    assert np.array_equal(non_dominated_mask(points), brute_force_non_dominated(points))


def test_duplicates_stay_on_the_front_together():
    assert non_dominated_mask(np.array([[1.0, 1.0], [1.0, 1.0], [2.0, 2.0]])).tolist() == [True, True, False]


@pytest.mark.parametrize("seed", range(12))
def test_hypervolume_matches_inclusion_exclusion(seed):
    rng = np.random.default_rng(seed)
    bounds = [Bounds(0.2, 1000, 2000, 10**6), Bounds(0.2, None, 2000, None), Bounds(0.2, 1000, None, 10**6)][seed % 3]
    scale = np.array([0.2, 1000, 2000, 10**6])
    raw = rng.uniform(0.0, 1.2, size=(int(rng.integers(1, 9)), 4)) * scale  # some rows outside the box
    active = list(bounds.active)
    normalised = raw[:, active] / scale[active]
    inside = normalised[np.all(normalised < 1, axis=1)]
    expected = brute_force_hypervolume(inside) if len(inside) else 0.0
    assert normalised_hypervolume(raw, bounds) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_hypervolume_of_one_point_is_its_box():
    bounds = Bounds(0.1, 100, 100, 100)
    assert hypervolume([evaluated(0, (0.05, 50, 50, 50))], bounds) == pytest.approx(0.5**4)
    assert hypervolume([evaluated(0, (0.2, 50, 50, 50))], bounds) == 0.0
    assert hypervolume([evaluated(0, status="failed")], bounds) == 0.0


def test_pareto_front_uses_validation_error_skips_failures_and_filters_bounds():
    bounds = Bounds(0.1, 1000, 1000, 1000)
    candidates = [
        evaluated(0, (0.05, 500, 500, 500)),
        evaluated(1, (0.06, 600, 600, 600)),   # dominated by 0
        evaluated(2, (0.02, 5000, 500, 500)),  # on the front, but over the PMU bound
        evaluated(3, status="nan_loss"),
        evaluated(4, (0.09, 100, 100, 100)),
    ]
    assert [c.id for c in pareto_front(candidates)] == [2, 0, 4]
    assert [c.id for c in pareto_front(candidates, bounds, within_bounds=True)] == [0, 4]


def test_the_hypervolume_curve_grows_with_each_feasible_candidate_and_ends_at_the_hypervolume():
    bounds = Bounds(0.1, 4000, 10_000, 200_000)
    candidates = [evaluated(0, (0.05, 3000, 5000, 100_000)), evaluated(1, status="stopped"),
                  evaluated(2, (0.5, 100, 100, 100)), evaluated(3, (0.03, 3500, 9000, 150_000))]
    curve = hypervolume_curve(candidates, bounds)
    assert curve[0] > 0 and curve[1] == curve[2] == curve[0] and curve[3] > curve[2]  # 1: stopped, 2: infeasible
    assert curve[-1] == pytest.approx(hypervolume(candidates, bounds))
