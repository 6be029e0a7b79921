"""How big a search is: its budget of trained candidates, population, tournament and epochs.

A leaf module (no torch, no :mod:`munas.data`), so that the data set declarations can state
their default search size with this type and :mod:`munas.search.config` can read it back.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SearchSize:
    budget: int
    population: int
    sample: int
    epochs: int | None = None
    """Training epochs per candidate; None keeps the trainer's preset."""


PAPER_SIZE = SearchSize(budget=2000, population=100, sample=25)
"""The μNAS aging-evolution configs: 2000 rounds, population 100, tournaments of 25 (spec §6.2)."""
