"""Load time of each data set: cold (decoding the files) and cached (decoded arrays on disk).

Usage: ``MUNAS_DATA_DIR=../shared/data python benchmarks/data.py [--repeat 3] [NAME ...]``

"Cold" loads with an empty feature cache, so every file is read, checked and decoded (the
files themselves may sit in the OS page cache after the first run). "Cached" is the median of
``--repeat`` further loads that read the decoded arrays back. The ratio is cold / cached: what
the cache saves over decoding on every load, the obvious alternative. Sets that are quick to
decode (digits, CIFAR-10 batches) are not cached and show "not cached". The MFCC line gives
the feature throughput, from which the cold load of a complete Speech Commands follows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from munas.data import DataError, list_datasets, load_dataset
from munas.data.audio import mfcc, read_wav
from munas.data.download import resolve_data_dir
from munas.data.registry import get_source
from munas.data.speech_commands import clip_paths, find_root


def timed_load(name: str) -> tuple[float, tuple[int, int, int]]:
    start = time.perf_counter()
    dataset = load_dataset(name, download=False)
    return time.perf_counter() - start, dataset.split_sizes


def mfcc_throughput(clips: int = 1024) -> float | None:
    """MFCC clips per second on real recordings (read once, repeated to ``clips``), or None."""
    try:
        paths = clip_paths(find_root(resolve_data_dir()))
    except DataError:
        return None
    audio = [read_wav(path) for path in paths[:64]]
    batch = [audio[i % len(audio)] for i in range(256)]
    start = time.perf_counter()
    for _ in range(clips // len(batch)):
        mfcc(np.stack(batch))
    return clips / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list_datasets())
    parser.add_argument("--repeat", type=int, default=3, help="cached loads per data set (median reported)")
    args = parser.parse_args()
    console = Console(width=None if sys.stdout.isatty() else 110)
    table = Table("data set", "train / val / test", "cold (s)", "cached (s)", "cold / cached")
    for name in args.names:
        if not get_source(name).is_present():
            table.add_row(name, "not present", "-", "-", "-")
            continue
        with tempfile.TemporaryDirectory() as cache:
            os.environ["MUNAS_CACHE_DIR"] = cache
            try:
                cold, sizes = timed_load(name)
            except DataError as error:
                table.add_row(name, f"error: {error}", "-", "-", "-")
                continue
            uses_cache = any(Path(cache).iterdir())
            cached = statistics.median(timed_load(name)[0] for _ in range(args.repeat))
        ratio = f"{cold / cached:.1f}×" if uses_cache else "not cached"
        table.add_row(name, " / ".join(f"{n:,}" for n in sizes), f"{cold:.2f}", f"{cached:.2f}", ratio)
    console.print(table)
    rate = mfcc_throughput()
    if rate is not None:
        console.print(f"MFCC features: {rate:,.0f} one-second clips/s (numpy, one process)")
    console.print(f"data dir: {os.environ.get('MUNAS_DATA_DIR', '(default user cache)')}; {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
