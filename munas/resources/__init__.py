"""Exact analytic resource models: peak memory, model size and MACs of an architecture."""

from __future__ import annotations

from dataclasses import dataclass

from munas.resources.accounting import ACCOUNTING, DEFAULT_PROFILE, TRAINED, Accounting, get_accounting
from munas.resources.graph import Op, OperatorGraph, build_graph
from munas.resources.peak_memory import PeakMemory, peak_memory
from munas.space.architecture import Architecture


@dataclass(frozen=True)
class Resources:
    pmu: int
    """Peak memory usage in bytes (minimum over operator orders)."""
    model_size: int
    """Bytes of weights and biases."""
    macs: int
    schedule: tuple[str, ...]
    """The operator order that reaches :attr:`pmu`."""
    accounting: str
    """Name of the profile that produced these numbers: the same network has other numbers
    under another profile, so a consumer that needs one profile checks this, not the values."""

    def as_dict(self) -> dict:
        return {"pmu": self.pmu, "model_size": self.model_size, "macs": self.macs, "schedule": list(self.schedule),
                "accounting": self.accounting}


def compute_resources(architecture: Architecture, accounting: str | Accounting = DEFAULT_PROFILE) -> Resources:
    """PMU, model size and MACs of ``architecture`` under an accounting profile."""
    profile = get_accounting(accounting)
    graph = build_graph(architecture, profile)
    memory = peak_memory(graph)
    return Resources(pmu=memory.peak, model_size=graph.model_size, macs=graph.macs, schedule=memory.schedule,
                     accounting=profile.name)


__all__ = [
    "ACCOUNTING", "DEFAULT_PROFILE", "TRAINED", "Accounting", "Op", "OperatorGraph", "PeakMemory", "Resources",
    "build_graph", "compute_resources", "get_accounting", "peak_memory",
]
