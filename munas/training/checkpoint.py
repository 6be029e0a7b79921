"""Saving a trained candidate: its (pruned) architecture document and float weights.

Weights are a plain ``state_dict`` written with ``torch.save`` and read back with
``weights_only=True``, so loading a file from elsewhere can never execute code.
"""

from __future__ import annotations

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
    except Exception:  # noqa: BLE001 - any unreadable or unsafe file is one user error
        raise UserError(f"{folder / WEIGHTS_FILE}: refused, not a plain tensor file (only files written by "
                        "'train --save' load; anything holding other objects is never unpickled)") from None
    network = build_network(architecture)
    try:
        network.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as error:
        raise UserError(f"{folder / WEIGHTS_FILE}: weights do not fit {folder / ARCHITECTURE_FILE} "
                        f"({str(error).splitlines()[0]})") from None
    return architecture, network.eval()
