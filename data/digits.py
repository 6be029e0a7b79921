"""``digits``: scikit-learn's 8x8 handwritten digits, the embedded default (no download).

1797 images of 8x8 pixels with values 0..16, scaled to [0, 1]. Split with seed 0, stratified:
20 % test, then 10 % of the rest as validation (1293 / 144 / 360).

The set is not in the paper, so its search defaults are chosen here, so that
``python cli.py search`` finishes in a few minutes on a 2-core CPU with a front worth looking at.
Two default 80-candidate searches found 1.4–2 % validation error at about 6 KB PMU / 10–20 KB
size, and 6–8 % error within 4 KB PMU / 10 KB size / 200 K MACs: these bounds bind without
being out of reach.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from munas.data.dataset import Dataset, make_dataset
from munas.data.defaults import SearchDefaults
from munas.data.registry import register_dataset
from munas.data.splits import train_val_test
from munas.search.fitness import Bounds
from munas.search.size import SearchSize
from munas.training.presets import TrainConfig

DEFAULTS = SearchDefaults(
    # 1293 8x8 training images; sized to train a small CNN in a few seconds on one CPU core.
    # At lr 0.05 (tried first) about one pruned candidate in six diverged to NaN during the
    # sparsity ramp (the straight-through gradient leaking upstream, fixed since in
    # munas/training/model.py), and others ended near chance; 0.01 trains as well unpruned.
    preset=TrainConfig(epochs=20, batch_size=32, optimizer="sgdw", lr=0.01, weight_decay=1e-5,
                       lr_schedule=((14, 0.002),), dropout=0.0, prune_start_epoch=3, prune_finish_epoch=14,
                       min_sparsity=0.05, max_sparsity=0.90),
    bounds=Bounds(0.08, 4_000, 10_000, 200_000),
    # 8 epochs instead of the preset's 20: candidates rank the same, and 80 of them train in a
    # few minutes on a 2-core CPU (README, "Search").
    size=SearchSize(80, 20, 5, epochs=8),
)


@register_dataset("digits", input_shape=(8, 8, 1), num_classes=10, defaults=DEFAULTS,
                  description="scikit-learn 8x8 handwritten digits, 1797 images (built in)")
def load_digits(data_dir: Path, download: bool) -> Dataset:
    """Load the digits; ``data_dir`` and ``download`` are unused (the data ships with scikit-learn)."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    x = (bunch.images.astype(np.float32) / 16.0)[..., None]
    y = bunch.target.astype(np.int64)
    split = train_val_test(y, test=0.2, val=0.1, where="scikit-learn digits")
    return make_dataset("digits", {name: (x, y, indices) for name, indices in split.items()}, num_classes=10)
