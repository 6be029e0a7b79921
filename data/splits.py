"""Fixed, stratified splits, so a data set divides the same way on every machine."""

from __future__ import annotations

import numpy as np

from munas.data.errors import DataError

SPLIT_SEED = 0


def stratified_split(
    indices: np.ndarray, y: np.ndarray, held_out: int | float, where: str
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``indices`` into (kept, held), holding out ``held_out`` of them, stratified by ``y[indices]``.

    ``held_out`` is a count or a fraction. Uses scikit-learn's ``train_test_split`` with seed 0,
    the split the μNAS configurations use, on indices only so no image is copied. A class too
    small to appear on both sides is a :class:`DataError` naming ``where`` the data came from.
    """
    from sklearn.model_selection import train_test_split  # slow to import; only loaders need it

    labels = y[indices]
    counts = np.bincount(labels)
    present = counts[counts > 0]
    if len(present) < 2:
        raise DataError(f"{where}: all {len(labels)} samples have one label; a data set needs at least two classes")
    try:
        kept, held = train_test_split(indices, test_size=held_out, stratify=labels, random_state=SPLIT_SEED)
    except ValueError as error:
        smallest = int(np.flatnonzero(counts == present.min())[0])
        raise DataError(f"{where}: cannot split {len(labels)} samples into stratified parts ({error}); class "
                        f"{smallest} has only {present.min()} sample(s): add more samples of each class") from error
    return kept, held


def train_val_test(
    y: np.ndarray, test: int | float, val: int | float, where: str
) -> dict[str, np.ndarray]:
    """Indices of a fixed split of one pool: ``test`` held out first, then ``val`` from the rest."""
    rest, test_indices = stratified_split(np.arange(len(y)), y, test, where)
    train_indices, val_indices = stratified_split(rest, y, val, where)
    return {"train": train_indices, "val": val_indices, "test": test_indices}
