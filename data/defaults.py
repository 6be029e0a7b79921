"""What a search on a data set starts from: its training preset, bounds and search size.

Every data set declares one :class:`SearchDefaults` in its own module, next to its loader
(spec §6.2 for the paper's sets); a user data set (a path) gets
:data:`munas.data.user.USER_DEFAULTS`. The declarations use the consumers' own types
(:class:`TrainConfig`, :class:`Bounds`, :class:`SearchSize`), each from a module that imports
neither torch nor :mod:`munas.data`: a declaration is type-checked where it is written, there is
no conversion step to drift, and ``python cli.py datasets`` stays free of torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from munas.search.fitness import Bounds
from munas.search.size import SearchSize
from munas.training.presets import TrainConfig


@dataclass(frozen=True)
class SearchDefaults:
    """A data set's defaults for ``search`` and ``train`` when the user does not override them."""

    preset: TrainConfig
    """How every candidate is trained (stored in the run's ``config.json``; resume compares it)."""
    bounds: Bounds
    size: SearchSize
    pruning_bounds: Bounds | None = None
    """Bounds of the structured-pruning variant, where the paper changed them for it (CIFAR-10)."""

    def bounds_for(self, pruning: bool) -> Bounds:
        """The bounds of a search with or without structured pruning."""
        if pruning and self.pruning_bounds is not None:
            return self.pruning_bounds
        return self.bounds
