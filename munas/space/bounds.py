"""The search space's ranges and step sizes, in one place (reference spec §1.1 and §2.3).

Ranges are sequences (``range`` or tuple) so that a uniform draw is an index and a bound check
is ``value in RANGE``. The upper ends come from the document format (architecture.py); the
only number of the search space that the format does not share is the lower end of dense
units (pruning may leave fewer than 10 units in a document, but the search never proposes it).
"""

from __future__ import annotations

from munas.space.architecture import (
    KERNEL_SIZES,
    LAYER_TYPES,
    MAX_CONV_BLOCKS,
    MAX_DENSE_BLOCKS,
    MAX_FILTERS,
    MAX_LAYERS_PER_BLOCK,
    MAX_UNITS,
    POOL_SIZES,
    POOL_TYPES,
)

MIN_UNITS = 10

CONV_BLOCKS = range(1, MAX_CONV_BLOCKS + 1)
LAYERS_PER_BLOCK = range(1, MAX_LAYERS_PER_BLOCK + 1)
FILTERS = range(1, MAX_FILTERS + 1)
DENSE_BLOCKS = range(1, MAX_DENSE_BLOCKS + 1)
UNITS = range(MIN_UNITS, MAX_UNITS + 1)

# Morph step sizes (spec §2.3): filters and units move by small odd amounts, kernel and pool
# sizes by one step of their (odd / even) grids.
FILTER_DELTAS = (-5, -3, -1, 1, 3, 5)
UNIT_DELTAS = FILTER_DELTAS
KERNEL_DELTAS = (-2, 2)
POOL_SIZE_DELTAS = (-2, 2)

__all__ = [
    "CONV_BLOCKS",
    "DENSE_BLOCKS",
    "FILTERS",
    "FILTER_DELTAS",
    "KERNEL_DELTAS",
    "KERNEL_SIZES",
    "LAYERS_PER_BLOCK",
    "LAYER_TYPES",
    "MIN_UNITS",
    "POOL_SIZES",
    "POOL_SIZE_DELTAS",
    "POOL_TYPES",
    "UNITS",
    "UNIT_DELTAS",
]
