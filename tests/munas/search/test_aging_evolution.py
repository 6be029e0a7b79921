"""Pure loop logic: tournament, aging, proposals. Training is replaced by the stored-record
factory (a deterministic test double); the real search is tested in test_loop.py and
tests/test_cli_search.py."""

import numpy as np

from munas.resources import compute_resources
from munas.resources.channels import pruned_shape
from munas.search.aging_evolution import AgingEvolution, child_sparsity, initial_sparsity, tournament
from munas.search.config import SearchConfig
from munas.search.fitness import Bounds, ScalarisedFitness
from munas.search.screening import NoScreener, Screener
from munas.space.morphisms import random_child
from munas.space.sampling import random_architecture

from .factories import evaluated

BOUNDS = Bounds(0.1, 2_000, 5_000, 500_000)
EQUAL = ScalarisedFitness((1.0, 1.0, 1.0, 1.0), BOUNDS)


def config(**changes) -> SearchConfig:
    values = dict(run="r", dataset="digits", bounds=BOUNDS, budget=20, population=4, sample=2, initial_population=4,
                  seed=0, epochs=None, pruning=True, accounting="tflm", surrogate="none", screen=1,
                  train_config={"min_sparsity": 0.05, "max_sparsity": 0.8})
    values.update(changes)
    return SearchConfig(**values)


def evolution(screener: Screener | None = None, seed: int = 0, **changes) -> AgingEvolution:
    return AgingEvolution(config(**changes), (8, 8, 1), 10, screener or NoScreener(), np.random.default_rng(seed),
                          random_architecture, random_child)


def population_by_error(errors):
    return [evaluated(i, (e, 100, 100, 100)) for i, e in enumerate(errors)]


def test_tournament_without_replacement_with_full_sample_always_finds_the_best():
    population = population_by_error([0.09, 0.05, 0.08, 0.07, 0.06])
    rng = np.random.default_rng(0)
    assert {tournament(population, EQUAL, 5, rng).id for _ in range(200)} == {1}


def test_tournament_with_replacement_reproduces_the_reference_and_can_miss_the_best():
    population = population_by_error([0.09, 0.05, 0.08, 0.07, 0.06])
    rng = np.random.default_rng(0)
    winners = {tournament(population, EQUAL, 5, rng, with_replacement=True).id for _ in range(200)}
    assert 1 in winners and len(winners) > 1


def test_tournament_samples_distinct_members():
    population = population_by_error([0.05] * 3 + [0.01])
    rng = np.random.default_rng(3)
    state = rng.bit_generator.state
    for _ in range(50):
        expected = np.random.default_rng(0)
        expected.bit_generator.state = rng.bit_generator.state
        drawn = expected.choice(4, size=3, replace=False)
        winner = tournament(population, EQUAL, 3, rng)
        assert len(set(drawn.tolist())) == 3
        assert winner.id == (3 if 3 in drawn else drawn[0])  # best wins; else first drawn on ties
    assert rng.bit_generator.state != state


def test_sample_larger_than_population_uses_everyone():
    population = population_by_error([0.09, 0.01])
    assert tournament(population, EQUAL, 25, np.random.default_rng(0)).id == 1


def test_sparsity_is_evolved_within_range_and_absent_without_pruning():
    rng = np.random.default_rng(0)
    values = [child_sparsity(0.79, (0.05, 0.8), 0.05, rng) for _ in range(500)]
    assert min(values) >= 0.05 and max(values) == 0.8 and np.std(values) > 0.01
    assert abs(np.mean([child_sparsity(0.4, (0.05, 0.8), 0.05, rng) for _ in range(2000)]) - 0.4) < 0.01
    assert initial_sparsity(None, rng) is None and child_sparsity(0.5, None, 0.05, rng) is None
    assert 0.05 <= child_sparsity(None, (0.05, 0.8), 0.05, rng) <= 0.8


def test_aging_keeps_the_last_p_successful_candidates():
    search = evolution(population=4)
    for i in range(10):
        search.record(evaluated(i, status="failed" if i in (7, 8) else "ok"))
    assert [c.id for c in search.history] == list(range(10))
    assert [c.id for c in search.population] == [4, 5, 6, 9]


def test_initial_population_is_random_then_children_of_finished_candidates():
    search = evolution(initial_population=3, budget=10)
    proposals = []
    for pending in range(3):
        assert search.may_propose(pending)
        proposals.append(search.propose(pending))
    assert not search.may_propose(3)  # no breeding while the initial population is still training
    assert [i for i, _ in proposals] == [0, 1, 2]
    assert all(c.parent_id is None and 0.05 <= c.sparsity <= 0.8 for _, c in proposals)
    for candidate_id, candidate in proposals:
        search.record(evaluated(candidate_id, sparsity=candidate.sparsity))
    candidate_id, child = search.propose(0)
    assert candidate_id == 3 and child.parent_id in {0, 1, 2}
    # judged by the network training will produce: pruned to its sparsity
    assert child.resources == compute_resources(pruned_shape(child.architecture, child.sparsity), "tflm")
    assert all(c.resources == compute_resources(pruned_shape(c.architecture, c.sparsity)) for _, c in proposals)
    assert not search.may_propose(7)  # 3 finished + 7 pending = budget


def test_a_child_is_one_morph_of_its_parent():
    search = evolution(initial_population=1, population=1, sample=1)
    _, first = search.propose(0)
    stored = evaluated(0, sparsity=first.sparsity)
    stored = type(stored)(**{**stored.__dict__, "architecture": first.architecture})
    search.record(stored)
    _, child = search.propose(0)
    assert child.architecture != first.architecture  # morphs never produce a silent no-op child
    assert child.parent_id == 0


class PickLast(Screener):
    def __init__(self):
        super().__init__(children_per_step=3)
        self.seen = []

    def choose(self, children, fitness):
        self.seen.append(len(children))
        for child in children:
            child.predicted_error = 0.5
        return len(children) - 1


def test_screener_chooses_among_k_children():
    screener = PickLast()
    search = evolution(screener, initial_population=1, screen=3, surrogate="test")
    search.record(evaluated(0))
    search.next_id = 1
    _, child = search.propose(0)
    assert screener.seen == [3] and child.predicted_error == 0.5 and child.parent_id == 0


def test_when_every_initial_candidate_failed_random_ones_are_proposed():
    search = evolution(initial_population=2)
    search.record(evaluated(0, status="failed"))
    search.record(evaluated(1, status="nan_loss"))
    _, candidate = search.propose(0)
    assert candidate.parent_id is None


def test_restore_continues_with_the_same_random_stream():
    a = evolution(seed=5, initial_population=2)
    history = []
    for _ in range(2):
        candidate_id, candidate = a.propose(0)
        history.append(evaluated(candidate_id, sparsity=candidate.sparsity))
        a.record(history[-1])
    state = a.state()
    b = evolution(seed=99, initial_population=2)
    b.restore(history, state["next_id"], state["rng"])
    assert [c.id for c in b.population] == [0, 1]
    next_a, next_b = a.propose(0), b.propose(0)
    assert next_a[0] == next_b[0] == 2
    assert next_a[1].architecture == next_b[1].architecture and next_a[1].sparsity == next_b[1].sparsity


def test_pruning_off_means_no_sparsity():
    search = evolution(pruning=False)
    assert search.propose(0)[1].sparsity is None
