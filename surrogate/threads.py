"""Run the surrogate's tiny tensor work on one CPU thread.

The surrogate's graphs have tens of nodes; splitting such work across threads gains nothing,
and when the cores are busy (training a candidate, other processes) threads waiting for each
other at every op make it far slower: ``benchmarks/surrogate.py`` times the ensemble's
forward pass over K=32 children on one thread and on all cores. On the shared 2-core machine
it gave 3.4 ms against 11 ms in the committed run (``benchmarks/results/surrogate.md``), and
3.7 ms against 4.2 s in a run while other processes kept both cores busy. The thread count
is restored afterwards so that the caller's own work (training candidates) keeps its
parallelism.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def single_threaded() -> Iterator[None]:
    previous = torch.get_num_threads()
    if previous != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if previous != 1:
            torch.set_num_threads(previous)
