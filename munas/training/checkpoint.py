"""Saving a trained candidate: its (pruned) architecture document and float weights.

Weights are a plain ``state_dict`` written with ``torch.save`` and read back with
``weights_only=True``, so loading a file from elsewhere can never execute code.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import torch

from munas.errors import UserError
from munas.space.architecture import Architecture, load_architecture, save_architecture
from munas.training.model import GraphNetwork, build_network

ARCHITECTURE_FILE = "architecture.json"
WEIGHTS_FILE = "weights.pt"
RESULT_FILE = "result.json"


def save_trained(directory: str | Path, architecture: Architecture, weights: dict[str, torch.Tensor],
                 summary: dict) -> Path:
    """Write ``architecture.json``, ``weights.pt`` and ``result.json`` (the summary) into ``directory``."""
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        save_architecture(architecture, folder / ARCHITECTURE_FILE)
        torch.save(weights, folder / WEIGHTS_FILE)
        (folder / RESULT_FILE).write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    except OSError as error:
        raise UserError(f"cannot write to {folder} ({error.strerror or error}); choose a writable --save folder") \
            from None
    return folder


def load_trained(directory: str | Path) -> tuple[Architecture, GraphNetwork]:
    """The network saved by :func:`save_trained`, in eval mode."""
    folder = Path(directory)
    architecture = load_architecture(folder / ARCHITECTURE_FILE)
    try:
        state = torch.load(folder / WEIGHTS_FILE, map_location="cpu", weights_only=True)
    except Exception:  # any unreadable or unsafe file is one user error
        raise UserError(f"{folder / WEIGHTS_FILE}: refused, not a plain tensor file (only files written by "
                        "'train --save' load; anything holding other objects is never unpickled)") from None
    return architecture, _network(architecture, state, f"{folder / WEIGHTS_FILE}", f"{folder / ARCHITECTURE_FILE}")


def weights_to_bytes(weights: dict[str, torch.Tensor]) -> bytes:
    """A ``state_dict`` as ``torch.save`` bytes (what the run store keeps per candidate)."""
    buffer = io.BytesIO()
    torch.save(weights, buffer)
    return buffer.getvalue()


def network_from_bytes(architecture: Architecture, data: bytes, source: str) -> GraphNetwork:
    """The network of ``architecture`` with the weights of :func:`weights_to_bytes` (eval mode);
    loaded with ``weights_only=True``, so stored bytes can never execute code."""
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception:  # any unreadable or unsafe blob is one user error
        raise UserError(f"{source}: refused, not a plain tensor state") from None
    return _network(architecture, state, source, "its architecture")


def _network(architecture: Architecture, state: dict, source: str, shape_source: str) -> GraphNetwork:
    network = build_network(architecture)
    try:
        network.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as error:
        raise UserError(f"{source}: weights do not fit {shape_source} ({str(error).splitlines()[0]})") from None
    return network.eval()
