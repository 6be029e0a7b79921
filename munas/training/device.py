"""Which device trains: CUDA when available, else the CPU; an explicit choice is checked."""

from __future__ import annotations

from contextlib import contextmanager

import torch

from munas.errors import UserError


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``None`` -> ``cuda`` if available, else ``cpu``; a named device must exist."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise UserError(f"unknown device {device!r} ({error}); use cpu, cuda or cuda:N") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device {device!r} requested but CUDA is not available; use cpu")
    return resolved


DEFAULT_CPU_THREADS = 1
"""Intra-op threads for CPU training. Tiny convolutions gain little from a second thread and
lose a lot whenever another process holds a core (every op ends in a thread barrier; measured
10x slower on a busy 2-core machine, see ``benchmarks/training.py``). A search parallelises
across candidates instead (one process per core)."""


@contextmanager
def cpu_threads(threads: int | None):
    """Run the block with ``torch.set_num_threads(threads)`` (default :data:`DEFAULT_CPU_THREADS`),
    then restore the previous setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, threads or DEFAULT_CPU_THREADS))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def training_dtype(device: torch.device, precision: str) -> torch.dtype | None:
    """The autocast dtype for training on ``device`` (None: plain float32).

    ``auto`` picks bfloat16 only on a CPU whose oneDNN has native bf16 kernels (AVX512-BF16 /
    AMX): there it runs the small convolutions of NAS candidates 1.3-3x faster than float32
    (``benchmarks/training.py``) at the same accuracy; elsewhere bf16 would be emulated and slow.
    """
    if precision == "float32":
        return None
    if precision == "bfloat16":
        return torch.bfloat16
    native = device.type == "cpu" and torch.backends.mkldnn.is_available() and \
        torch.ops.mkldnn._is_mkldnn_bf16_supported()
    return torch.bfloat16 if native else None
