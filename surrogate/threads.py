"""Run the surrogate's tiny tensor work on one CPU thread.

The surrogate's graphs have tens of nodes; splitting such work across threads gains nothing,
and when the cores are busy (training a candidate, other processes) threads waiting for each
other at every op make it far slower: ``benchmarks/surrogate.py`` times the ensemble's
forward pass over K=32 children on one thread and on all cores. On a 2-core machine with
little else running, two threads win slightly (3.5 ms against 2.8 ms, the committed
``benchmarks/results/surrogate.md``); with other work on the cores, as during a search, one
thread won: 3.4 ms against 11 ms, and 3.7 ms against 4.2 s in a run while other processes
kept both cores busy. The thread count
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
