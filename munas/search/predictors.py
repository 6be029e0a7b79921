"""Predictors guess a candidate's validation error before it is trained (DESIGN.md §5, §7).

A predictor is the learning half of screening: it fits on trained candidates and predicts,
for new ones, a mean :math:`\\mu` and a spread :math:`\\sigma \\ge 0` of the validation error.
What to do with the prediction (optimism, scoring against exact resources, when to refit)
is the other half, :class:`munas.search.screening.PredictorScreener`, written once for every
predictor. The spread is whatever uncertainty the predictor has (the members of an
ensemble, the trees of a forest); a predictor without one returns zeros.

Predictors are plug-ins: each is declared as an entry point of the group
``munas.predictors`` (in ``pyproject.toml``: ``gnn``, ``rf`` and ``mlp`` from
``munas.surrogate``), so the core imports none of them, and listing them imports neither
torch-geometric nor scikit-learn. A predictor is loaded when a search asks for it.

A predictor reads what it needs from the candidates it is given: their ``architecture``
and ``sparsity`` always. Signals measured later are further, optional attributes of the same
candidates, so a predictor that uses them reads them there and the screener does not change:
``proxies`` (zero-cost proxies at initialisation, a name -> value mapping, present when the
search computes them: :func:`proxy_features`) and, on trained candidates, ``curve`` (the
validation error after each epoch; the multi-fidelity promotion reads it,
:mod:`munas.search.fidelity`). A predictor must work when they are absent (candidates of
older runs, logged samples).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from munas.errors import UserError
from munas.registry import Registry

if TYPE_CHECKING:
    from munas.space.architecture import Architecture


class Described(Protocol):
    """What a predictor may read of a candidate (proposed, trained, or a logged sample)."""

    @property
    def architecture(self) -> Architecture: ...

    @property
    def sparsity(self) -> float | None: ...


def proxy_features(candidate: object) -> np.ndarray | None:
    """The candidate's zero-cost proxies in name order, or None when it has none."""
    proxies = getattr(candidate, "proxies", None)
    return None if not proxies else np.array([float(proxies[name]) for name in sorted(proxies)])


@dataclass
class Prediction:
    """Predicted validation error per candidate: mean and spread (standard deviation, >= 0)."""

    mean: np.ndarray
    std: np.ndarray


class Predictor(ABC):
    """Base class: fit on trained candidates, predict the error of untrained ones.

    Args:
        seed: seed of the predictor's random choices, so a search is repeatable. A
            ``numpy.random.Generator`` is used as it is, for a caller that shares one stream.
        init: a saved predictor to start from (``--surrogate-init``); one that cannot load a
            file refuses it.
        dataset: the search's data set (an ``init`` trained on another task can be refused).
    """

    def __init__(self, seed: int | np.random.Generator = 0, init: str | Path | None = None,
                 dataset: str | None = None) -> None:
        if init is not None:
            raise UserError(f"--surrogate-init: {type(self).__name__} cannot start from a saved file; "
                            "drop --surrogate-init, or choose a --surrogate that loads one")
        self.rng = np.random.default_rng(seed)

    @property
    @abstractmethod
    def fitted(self) -> bool:
        """Whether :meth:`predict` may be called (fitted, or loaded from ``init``)."""

    @abstractmethod
    def fit(self, candidates: Sequence[Described], errors: Sequence[float] | np.ndarray) -> None:
        """Learn ``errors`` (validation errors, same order) of ``candidates``.

        Each call passes everything learned from so far, never only the news; a predictor
        may continue from its previous fit (the GNN warm-starts) or start afresh.
        """

    @abstractmethod
    def predict(self, candidates: Sequence[Described]) -> Prediction:
        """Mean and spread of the validation error of each candidate."""


PREDICTORS: Registry[Callable[..., Predictor]] = Registry("predictor", entry_point_group="munas.predictors")
"""Predictor classes by name; ``--surrogate NAME`` screens with the predictor ``NAME``."""


def create_predictor(name: str, seed: int | np.random.Generator = 0, init: str | Path | None = None,
                     dataset: str | None = None) -> Predictor:
    """Build the predictor registered as ``name`` (loading its plug-in)."""
    return PREDICTORS.get(name)(seed=seed, init=init, dataset=dataset)
