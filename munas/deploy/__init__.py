"""Deployment of a found network: int8 TFLite in munas's operator order, TFLite Micro, ONNX, C.

The converters are heavy optional dependencies (the ``deploy`` extra); :func:`require` turns a
missing one into one user-facing line naming the install command, instead of an ImportError
deep inside a conversion. Importing them prints C++ and library log lines (oneDNN, absl,
torchao's optional kernels) that say nothing to a user; they are kept off the terminal.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import os
import tempfile
from collections.abc import Callable
from types import ModuleType

from munas.errors import UserError

INSTALL_HINT = "pip install 'munas[deploy]'"
FORMATS = ("tflite", "onnx", "c")


def capture_stderr(action: Callable[[], object]) -> str:
    """What C code (and Python) wrote on file descriptor 2 during ``action``."""
    with tempfile.TemporaryFile(mode="w+b") as sink:
        saved = os.dup(2)
        try:
            os.dup2(sink.fileno(), 2)
            action()
        finally:
            ctypes.CDLL(None).fflush(None)  # flush C stdio into the sink
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        return sink.read().decode(errors="replace")


def require(module: str) -> ModuleType:
    """Import ``module`` of the deploy extra, or fail with the command that installs it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for noisy in ("torchao", "torch.utils._pytree", "torch.onnx"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        capture_stderr(lambda: importlib.import_module(module))
        return importlib.import_module(module)
    except ImportError:
        raise UserError(f"export needs the optional package {module.split('.')[0]!r}; "
                        f"install it with: {INSTALL_HINT}") from None
