"""Fixed, stratified splits, so a data set divides the same way on every machine."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from data.errors import DataError

SPLIT_SEED = 0


def stratified_split(
    x: np.ndarray, y: np.ndarray, held_out: int | float, where: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split off ``held_out`` samples (a count, or a fraction of ``len(y)``), stratified by label.

    Uses scikit-learn's ``train_test_split`` with seed 0, the split the μNAS configurations use.
    Returns ``(x_kept, y_kept, x_held, y_held)``. A class too small to appear on both sides is a
    :class:`DataError` naming ``where`` the data came from.
    """
    counts = np.bincount(y)
    present = counts[counts > 0]
    if len(present) < 2 and len(y) > 0:
        raise DataError(f"{where}: all {len(y)} samples have one label; a data set needs at least two classes")
    try:
        kept_x, held_x, kept_y, held_y = train_test_split(
            x, y, test_size=held_out, stratify=y, random_state=SPLIT_SEED, shuffle=True)
    except ValueError as error:
        smallest = int(np.flatnonzero(counts == present.min())[0])
        raise DataError(f"{where}: cannot split {len(y)} samples into stratified parts ({error}); class {smallest} "
                        f"has only {present.min()} sample(s): add more samples of each class") from error
    return kept_x, kept_y, held_x, held_y
