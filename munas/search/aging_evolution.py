"""Aging evolution (spec §4.2), as a state machine the asynchronous loop drives.

:class:`AgingEvolution` holds the history (every finished candidate, in completion order)
and the population (the last ``P`` finished ``ok`` candidates), and proposes what to train
next: a random architecture while the initial population is being filled, then a child of
a tournament winner. Parents are only ever chosen among *finished* candidates. Whether to
propose (a worker is free, the budget is not spent) is the loop's decision
(:mod:`munas.search.loop`); nothing here trains or stores anything, so this logic is unit
tested with a deterministic test double.

Deviations from the reference, both switchable back:
* The tournament draws S *distinct* members (quirk 7; ``with_replacement=True`` is the
  reference behaviour).
* λ has a floor (quirk 8, see :mod:`munas.search.fitness`).
Candidates whose training failed (``nan_loss``/``failed``) are kept in the history and count
towards the budget but never join the population (they have no objectives). If the whole
initial population failed, random architectures are proposed until one succeeds.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

import numpy as np

from munas.resources import compute_resources
from munas.resources.channels import pruned_shape
from munas.search.candidates import Candidate, EvaluatedCandidate
from munas.search.config import SearchConfig
from munas.search.fitness import ScalarisedFitness, random_fitness
from munas.search.screening import Screener
from munas.space.architecture import Architecture
from munas.space.sampling import child_sparsity as evolve_sparsity
from munas.space.sampling import random_sparsity

RandomArchitecture = Callable[[tuple[int, int, int], int, np.random.Generator], Architecture]
Morph = Callable[[Architecture, np.random.Generator], Architecture]


def tournament(population: Sequence[EvaluatedCandidate], fitness: ScalarisedFitness, sample_size: int,
               rng: np.random.Generator, with_replacement: bool = False) -> EvaluatedCandidate:
    """The fittest of ``sample_size`` members drawn uniformly; the first drawn wins ties.

    Without replacement (default) the sample is ``min(sample_size, len(population))`` distinct
    members; with replacement it is exactly ``sample_size`` draws, as in the reference.
    """
    if not population:
        raise ValueError("the tournament needs a non-empty population")
    size = sample_size if with_replacement else min(sample_size, len(population))
    drawn = rng.choice(len(population), size=size, replace=with_replacement)
    scores = [fitness.of(population[i]) for i in drawn]
    return population[int(drawn[int(np.argmax(scores))])]


def initial_sparsity(sparsity_range: tuple[float, float] | None, rng: np.random.Generator) -> float | None:
    """``U(min, max)`` for a random point (spec §4.4); None when pruning is off."""
    if sparsity_range is None:
        return None
    return random_sparsity(rng, *sparsity_range)


def child_sparsity(parent: float | None, sparsity_range: tuple[float, float] | None, sigma: float,
                   rng: np.random.Generator) -> float | None:
    """``clip(parent + N(0, σ²), min, max)`` (spec §4.4); None when pruning is off."""
    if sparsity_range is None:
        return None
    if parent is None:  # a parent trained without pruning: start the child anywhere in range
        return initial_sparsity(sparsity_range, rng)
    return evolve_sparsity(parent, rng, *sparsity_range, sigma=sigma)


class AgingEvolution:
    """History, population and proposals of one search."""

    def __init__(self, config: SearchConfig, input_shape: tuple[int, int, int], num_classes: int,
                 screener: Screener, rng: np.random.Generator, random_architecture: RandomArchitecture,
                 random_child: Morph, annotate: Callable[[Candidate], None] | None = None) -> None:
        """``annotate`` is called on every proposed candidate before the screener sees it (the
        loop measures zero-cost proxies there); it must not draw from ``rng``."""
        self.config = config
        self.input_shape = input_shape
        self.num_classes = num_classes
        self.screener = screener
        self.rng = rng
        self._random_architecture = random_architecture
        self._random_child = random_child
        self._annotate = annotate
        self.history: list[EvaluatedCandidate] = []
        self.population: deque[EvaluatedCandidate] = deque()
        self.next_id = 0

    # -- state ---------------------------------------------------------------------------
    def record(self, evaluated: EvaluatedCandidate) -> None:
        """Add a finished candidate; the oldest population member ages out beyond P."""
        self.history.append(evaluated)
        if evaluated.ok:
            self.population.append(evaluated)
            while len(self.population) > self.config.population:
                self.population.popleft()

    def restore(self, history: Sequence[EvaluatedCandidate], next_id: int, rng_state: dict) -> None:
        """Continue from a stored run: same history, population = last P ok, same RNG state."""
        self.history = []
        self.population = deque()
        for evaluated in history:
            self.record(evaluated)
        self.next_id = next_id
        self.rng.bit_generator.state = rng_state

    def state(self) -> dict:
        """What must be stored with every candidate so a resume continues identically."""
        return {"next_id": self.next_id, "rng": self.rng.bit_generator.state}

    # -- proposals ------------------------------------------------------------------------
    def may_propose(self, pending: int) -> bool:
        """Within budget, and not breeding before the initial population has finished."""
        started = len(self.history) + pending
        if started >= self.config.budget:
            return False
        return started < self.config.initial_population or len(self.history) >= self.config.initial_population

    def propose(self, pending: int) -> tuple[int, Candidate]:
        """The next candidate to train and its id."""
        if len(self.history) + pending < self.config.initial_population or not self.population:
            candidate = self._random_candidate()
        else:
            candidate = self._child_candidate()
        candidate_id = self.next_id
        self.next_id += 1
        return candidate_id, candidate

    def _candidate(self, architecture: Architecture, sparsity: float | None, parent_id: int | None = None) -> Candidate:
        resources = compute_resources(pruned_shape(architecture, sparsity), self.config.accounting)
        candidate = Candidate(architecture, sparsity, resources, parent_id=parent_id)
        if self._annotate is not None:
            self._annotate(candidate)
        return candidate

    def _random_candidate(self) -> Candidate:
        architecture = self._random_architecture(self.input_shape, self.num_classes, self.rng)
        return self._candidate(architecture, initial_sparsity(self.config.sparsity_range, self.rng))

    def _child_candidate(self) -> Candidate:
        fitness = random_fitness(self.config.bounds, self.rng, self.config.lambda_floor)
        parent = tournament(list(self.population), fitness, self.config.sample, self.rng,
                            self.config.tournament_with_replacement)
        children = []
        for _ in range(self.config.screen):
            architecture = self._random_child(parent.architecture, self.rng)
            sparsity = child_sparsity(parent.sparsity, self.config.sparsity_range, self.config.sparsity_sigma,
                                      self.rng)
            children.append(self._candidate(architecture, sparsity, parent.id))
        chosen = self.screener.choose(children, fitness)
        if not 0 <= chosen < len(children):
            raise RuntimeError(f"screener {type(self.screener).__name__} chose child {chosen} of {len(children)}")
        return children[chosen]
