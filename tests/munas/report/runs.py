"""A small synthetic run for the report's unit tests: every status, screened predictions, bounds."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from munas.search.candidates import EvaluatedCandidate
from munas.search.config import SearchConfig, SearchOptions, new_config
from munas.search.results import RunResults
from munas.search.run import RunDirectory

from ..search.factories import evaluated

BOUNDS = {"error": 0.5, "pmu": 2000, "model_size": 2000, "macs": 2000}


def config(budget: int = 8) -> SearchConfig:
    return new_config(SearchOptions(dataset="digits", budget=budget, **BOUNDS), "unit")


def candidates() -> list[EvaluatedCandidate]:
    """In completion order: 0 fits, 1 is beyond the PMU bound, 2 failed, 3 fits and beats 0 on error,
    4 stopped (estimated error), 5 fits but is dominated by 3; 3 and 5 carry a screener's prediction."""
    failed = replace(evaluated(2, status="failed"), message="worker died: <script>alert(1)</script>")
    stopped = replace(evaluated(4, status="stopped"), message="stopped after its rung", estimated_error=0.4)
    return [
        evaluated(0, (0.30, 1000, 1000, 1000)),
        evaluated(1, (0.10, 5000, 1000, 1000), parent_id=0),
        failed,
        replace(evaluated(3, (0.20, 800, 900, 1000), parent_id=0), predicted_error=0.25, predicted_error_std=0.02),
        stopped,
        replace(evaluated(5, (0.25, 900, 900, 1500), parent_id=3), predicted_error=0.22, predicted_error_std=None),
        replace(evaluated(6, (0.45, 1500, 1500, 1500), parent_id=3), predicted_error=0.35, predicted_error_std=0.05),
    ]


def results(root: Path, budget: int = 8) -> RunResults:
    return RunResults(RunDirectory("unit", root), config(budget), candidates())
