"""``digits``: scikit-learn's 8x8 handwritten digits, the embedded default (no download).

1797 images of 8x8 pixels with values 0..16, scaled to [0, 1]. Split with seed 0, stratified:
20 % test, then 10 % of the rest as validation (1293 / 144 / 360).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from munas.data.dataset import Dataset, make_dataset
from munas.data.registry import register_dataset
from munas.data.splits import train_val_test


@register_dataset("digits", input_shape=(8, 8, 1), num_classes=10,
                  description="scikit-learn 8x8 handwritten digits, 1797 images (built in)")
def load_digits(data_dir: Path, download: bool) -> Dataset:
    """Load the digits; ``data_dir`` and ``download`` are unused (the data ships with scikit-learn)."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    x = (bunch.images.astype(np.float32) / 16.0)[..., None]
    y = bunch.target.astype(np.int64)
    split = train_val_test(y, test=0.2, val=0.1, where="scikit-learn digits")
    return make_dataset("digits", {name: (x, y, indices) for name, indices in split.items()}, num_classes=10)
