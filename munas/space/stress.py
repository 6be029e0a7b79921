"""Networks for exercising the resource models beyond what plain sampling tends to produce.

Shared by the peak-memory tests and benchmarks, so both measure the same kind of hard case.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from munas.data import list_datasets
from munas.data.registry import get_source
from munas.space.architecture import Architecture, ConvBlock
from munas.space.sampling import random_architecture


def builtin_tasks() -> list[tuple[tuple[int, int, int], int]]:
    """(input shape, classes) of the built-in data sets as they declare them, each distinct task
    once, in data-set name order: the shapes real searches build networks for."""
    tasks = [(get_source(name).input_shape, get_source(name).num_classes) for name in list_datasets()]
    return list(dict.fromkeys(tasks))


def branchy_architecture(shape: tuple[int, int, int], classes: int, rng: np.random.Generator,
                         max_branch_layers: int = 3) -> Architecture:
    """A random search-space network regrouped into one or, with probability 0.3, two groups
    of a trunk block and 5 to 8 branch blocks of 1 to ``max_branch_layers`` random layers,
    all reading the same tensor: the order of the branches decides the peak memory, which is
    the hardest case for the peak-memory solver."""
    base = random_architecture(shape, classes, rng)
    donors = [layer for _ in range(3) for block in random_architecture(shape, classes, rng).conv_blocks
              for layer in block.layers]
    blocks = []
    for _ in range(1 + int(rng.random() < 0.3)):
        for b in range(1 + int(rng.integers(5, 9))):
            count = int(rng.integers(1, max_branch_layers + 1))
            layers = tuple(donors[int(rng.integers(len(donors)))] for _ in range(count))
            blocks.append(ConvBlock(layers, is_branch=b > 0))
    return dataclasses.replace(base, conv_blocks=tuple(blocks))
