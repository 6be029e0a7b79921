"""Accounting profiles: what a byte is and which rounding the deployed network uses.

``munas`` reproduces the μNAS reference numbers, quirks included, so results compare with
the paper. ``tflm`` (the default) describes what an int8 TensorFlow Lite Micro deployment of
the network munas actually trains holds in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from munas.registry import Registry


@dataclass(frozen=True)
class Accounting:
    name: str
    pool_rounding: Literal["ceil", "floor"]
    """Output size of a pooling layer with window p on h rows: ceil(h/p) or floor(h/p)."""
    input_in_peak_memory: bool
    """Whether the network input buffer counts toward peak memory."""
    explicit_padding: bool
    """Whether the zero-padding of an Add operand is a real op (TFLM has no padded Add)."""
    activation_bytes: int = 1
    weight_bytes: int = 1
    bias_bytes: int = 1


ACCOUNTING: Registry[Accounting] = Registry("accounting profile")
MUNAS = ACCOUNTING.add("munas", Accounting("munas", pool_rounding="ceil", input_in_peak_memory=False,
                                           explicit_padding=False))
TFLM = ACCOUNTING.add("tflm", Accounting("tflm", pool_rounding="floor", input_in_peak_memory=True,
                                         explicit_padding=True, bias_bytes=4))
DEFAULT_PROFILE = "tflm"
"""The profile a user gets when they name none (``--accounting``, the search configuration)."""
TRAINED = TFLM
"""The profile whose shapes are those of the network munas trains: the torch network is built
from this profile's operator graph, and torch pools round down, as TFLM does (``munas`` rounds
up). Everything that must describe the trained network (the torch model, pruning's channel
counts, the GNN's features, morphisms' silence check) uses this, whatever profile the user
chose for the bounds."""


def get_accounting(name: str | Accounting) -> Accounting:
    """Look up a profile by name (``tflm`` or ``munas``); an unknown name is a :class:`UserError`."""
    if isinstance(name, Accounting):
        return name
    return ACCOUNTING.get(name)
