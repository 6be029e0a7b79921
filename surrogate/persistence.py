"""Saving and loading a trained surrogate ensemble.

One file written by ``torch.save`` holding only tensors, strings and containers, so that
it loads with ``torch.load(weights_only=True)``: a model file may come from anywhere and
must never be able to run code. The JSON header says what the weights are (model shape,
target scaling, the feature names of the encoding they were trained on, free metadata such
as the runs and scores); a file whose features differ from the current encoding is refused
rather than silently fed the wrong inputs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from munas.errors import UserError
from munas.surrogate.encoding import EDGE_FEATURES, GRAPH_FEATURES, NODE_FEATURES
from munas.surrogate.ensemble import TARGET, SurrogateEnsemble
from munas.surrogate.model import ModelConfig, SurrogateGNN

FORMAT = "munas-surrogate"
VERSION = 1


class SurrogateFileError(UserError):
    """A surrogate file that cannot be read or was made for another encoding."""


def _features() -> dict[str, list[str]]:
    return {"node": list(NODE_FEATURES), "graph": list(GRAPH_FEATURES), "edge": list(EDGE_FEATURES)}


def save_ensemble(ensemble: SurrogateEnsemble, path: str | Path, metadata: dict[str, Any] | None = None) -> None:
    """Write ``ensemble`` (and JSON-serialisable ``metadata``) to ``path``."""
    header = {
        "format": FORMAT,
        "version": VERSION,
        "model": ensemble.config.as_dict(),
        "members": len(ensemble.members),
        "target": TARGET,
        "target_mean": ensemble.target_mean,
        "target_std": ensemble.target_std,
        "features": _features(),
        "metadata": metadata or {},
    }
    payload = {
        "header": json.dumps(header),
        "members": [{k: v.detach().cpu() for k, v in m.state_dict().items()} for m in ensemble.members],
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, path)


def read_header(path: str | Path) -> dict[str, Any]:
    """The JSON header of a surrogate file (its metadata says what it was trained on)."""
    return _load(path)[0]


def load_ensemble(path: str | Path, dataset: str | None = None) -> SurrogateEnsemble:
    """Read an ensemble written by :func:`save_ensemble`; refuses anything else, and, given the
    ``dataset`` of the search that will use it, one trained on another data set's errors."""
    header, states = _load(path)
    trained_on = (header.get("metadata") or {}).get("dataset")
    if dataset is not None and trained_on is not None and trained_on != dataset:
        raise SurrogateFileError(
            f"--surrogate-init {path} was trained on {trained_on!r} candidates, but this search is on {dataset!r}; "
            f"train one with python cli.py train-surrogate --dataset {dataset}, or drop --surrogate-init")
    config = ModelConfig(**header["model"])
    members = []
    for state in states:
        member = SurrogateGNN(config)
        try:
            member.load_state_dict(state)
        except (RuntimeError, KeyError, TypeError) as error:
            raise SurrogateFileError(f"{path}: weights do not match the model shape in its header ({error})") from None
        member.eval()
        members.append(member)
    return SurrogateEnsemble(members, header["target_mean"], header["target_std"])


def _load(path: str | Path) -> tuple[dict[str, Any], list[dict[str, torch.Tensor]]]:
    path = Path(path)
    if not path.is_file():
        raise SurrogateFileError(f"{path}: no such surrogate file (train one with `python cli.py train-surrogate`)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a foreign or malicious file
        raise SurrogateFileError(
            f"{path}: not a surrogate file that loads safely ({error.__class__.__name__}); "
            "retrain it with `python cli.py train-surrogate`"
        ) from None
    try:
        header = json.loads(payload["header"])
        states = payload["members"]
        ok = header.get("format") == FORMAT and isinstance(states, list) and len(states) == header["members"]
    except (TypeError, KeyError, ValueError, AttributeError):
        ok = False
    if not ok:
        raise SurrogateFileError(f"{path}: not a munas surrogate file (retrain with `python cli.py train-surrogate`)")
    if header.get("version") != VERSION or header.get("features") != _features() or header.get("target") != TARGET:
        raise SurrogateFileError(
            f"{path}: made for another version of the graph encoding; retrain with `python cli.py train-surrogate`"
        )
    return header, states
