"""Deployment of a found network: int8 TFLite in munas's operator order, TFLite Micro, ONNX, C.

The converters are heavy optional dependencies (the ``deploy`` extra); :func:`require` turns a
missing one into one user-facing line naming the install command, instead of an ImportError
deep inside a conversion.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from munas.errors import UserError

INSTALL_HINT = "pip install 'munas[deploy]'"
FORMATS = ("tflite", "onnx", "c")


def require(module: str) -> ModuleType:
    """Import ``module`` of the deploy extra, or fail with the command that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise UserError(f"export needs the optional package {module.split('.')[0]!r}; "
                        f"install it with: {INSTALL_HINT}") from None
