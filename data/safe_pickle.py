"""A restricted unpickler for the CIFAR-10 python batches.

Unpickling runs whatever callables the stream names, so a data file from an unknown source
could execute code. The CIFAR-10 batches only ever name numpy's array reconstruction, the
ndarray type and dtype; every other global is refused before it is resolved, which makes a
malicious file fail with an error instead of running. ``_codecs.encode`` (how a protocol-2
pickle written by Python 3 spells a ``bytes`` value) is admitted too: it only encodes a string.
"""

from __future__ import annotations

import _codecs
import io
import pickle
from typing import Any

import numpy as np

from munas.data.errors import DataError


def _numpy_reconstruct() -> Any:
    """numpy's array-unpickling helper, which moved from numpy.core to numpy._core in numpy 2."""
    core = getattr(np, "_core", None) or np.core
    return core.multiarray._reconstruct


ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct(),
    ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct(),
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _codecs.encode,
}


class RefusedGlobal(pickle.UnpicklingError):
    """The stream names something outside :data:`ALLOWED_GLOBALS`."""


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only :data:`ALLOWED_GLOBALS` (lists, dicts, str/bytes need none)."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise RefusedGlobal(f"refers to {module}.{name}") from None

    def persistent_load(self, pid: Any) -> Any:
        raise RefusedGlobal("uses a persistent id")


def load_restricted_pickle(content: bytes, where: str) -> Any:
    """Unpickle ``content`` (Python 2 strings as bytes) admitting only numpy arrays and builtins.

    Raises :class:`DataError` when the stream names anything else, or is damaged.
    """
    try:
        return RestrictedUnpickler(io.BytesIO(content), encoding="bytes").load()
    except RefusedGlobal as error:
        raise DataError(f"{where}: refused to unpickle: the file {error}, which a CIFAR-10 batch never holds "
                        "(it may be malicious); replace it with the original batch") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, AttributeError, MemoryError) as error:
        raise DataError(f"{where}: not a readable CIFAR-10 python batch ({type(error).__name__}: {error}); "
                        "the file is truncated or damaged, replace it with the original") from None
