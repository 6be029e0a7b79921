"""Screeners decide which of K mutated children is worth training (DESIGN.md §5).

Training is the whole cost of the search; a screener that predicts a child's error without
training it lets the search make many children and train only the most promising one.
The loop knows only this base class and the registry; ``"none"`` (built in) trains the
single child as μNAS does, and the GNN surrogate registers ``"gnn"`` from ``surrogate/``.

A screener's :meth:`Screener.choose` may record what it predicted for a child by setting
``child.predicted_error`` / ``child.predicted_error_std``; the run store keeps the values of
the child that is trained.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from munas.errors import UserError
from munas.search.candidates import Candidate, EvaluatedCandidate
from munas.search.fitness import ScalarisedFitness


class Screener(ABC):
    """Base class: pick a child to train, learn from trained candidates.

    Subclasses override :meth:`choose` and usually :meth:`observe`. ``children_per_step`` is
    how many children the loop makes per trained candidate (K; 1 means no screening);
    ``seed`` is the search's seed, for screeners whose learning is random.
    """

    def __init__(self, children_per_step: int = 1, seed: int = 0) -> None:
        if children_per_step < 1:
            raise UserError(f"--screen must be at least 1, got {children_per_step}")
        self.children_per_step = children_per_step
        self.seed = seed

    @abstractmethod
    def choose(self, children: Sequence[Candidate], fitness: ScalarisedFitness) -> int:
        """Index of the child to train. ``fitness`` is the tournament's scalarisation
        (call it on ``(error, pmu, size, macs)``; larger is better)."""

    def observe(self, evaluated: Sequence[EvaluatedCandidate]) -> None:
        """Learn from newly trained candidates (all of them, including failed ones).

        On ``--resume`` the whole stored history is passed once, before the loop continues.
        """


_REGISTRY: dict[str, Callable[..., Screener]] = {}
S = TypeVar("S", bound=Callable[..., Screener])


def register_screener(name: str) -> Callable[[S], S]:
    """Class decorator: make a screener available as ``--surrogate NAME``."""

    def decorate(factory: S) -> S:
        _REGISTRY[name] = factory
        return factory

    return decorate


def _load_plugins(name: str) -> None:
    """Import the package that registers ``name``, only when it is asked for (it may be heavy)."""
    if name in _REGISTRY:
        return
    if name == "gnn":
        try:
            import munas.surrogate  # noqa: F401  (registers "gnn" on import)
        except ImportError as error:
            raise UserError(f"--surrogate gnn needs the surrogate package, which failed to import ({error}); "
                            "reinstall with pip install -e . or use --surrogate none") from None


def list_screeners() -> list[str]:
    return sorted(set(_REGISTRY) | {"gnn"})


def create_screener(name: str, **kwargs: Any) -> Screener:
    """Build the screener registered as ``name`` (``children_per_step`` and others as kwargs)."""
    _load_plugins(name)
    if name not in _REGISTRY:
        raise UserError(f"unknown surrogate {name!r}; choose one of {', '.join(list_screeners())}")
    return _REGISTRY[name](**kwargs)


@register_screener("none")
class NoScreener(Screener):
    """μNAS without a surrogate: the first child is trained (K > 1 then just wastes morphs)."""

    def choose(self, children: Sequence[Candidate], fitness: ScalarisedFitness) -> int:
        return 0
