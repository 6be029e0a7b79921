"""Export one stored candidate of a run: pick it, rebuild its trained network, convert, check.

Every format is checked on the test split before it is reported: the TFLite model in LiteRT
and in TFLite Micro (whose predictions must equal LiteRT's) against munas's int8 test
accuracy, the ONNX models in onnxruntime against torch. ``report.json`` in the output folder
keeps the figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from munas.errors import UserError
from munas.resources import build_graph, compute_resources
from munas.resources.accounting import TRAINED
from munas.search.candidates import EvaluatedCandidate
from munas.search.fitness import Bounds
from munas.search.results import RunResults
from munas.search.store import RunStore
from munas.space.architecture import Architecture
from munas.training.checkpoint import network_from_bytes
from munas.training.model import GraphNetwork


@dataclass(frozen=True)
class Exported:
    folder: Path
    report: dict[str, Any]


def choose(results: RunResults, which: str, bounds: Bounds) -> EvaluatedCandidate:
    """Candidate ``which`` (an id) of the run, or ``best``: the lowest validation error within ``bounds``."""
    candidates = results.candidates
    if which == "best":
        fitting = [c for c in candidates if c.ok and bounds.within(c.objectives)]
        if not fitting:
            raise UserError(f"run {results.name!r} has no trained candidate within the bounds; loosen them "
                            "(e.g. --error none) or give a candidate id")
        return min(fitting, key=lambda c: (c.val_error, c.id))
    try:
        wanted = int(which)
    except ValueError:
        raise UserError(f"candidate must be an id or 'best', got {which!r}") from None
    for candidate in candidates:
        if candidate.id == wanted:
            if not candidate.ok:
                raise UserError(f"candidate {wanted} of run {results.name!r} has status {candidate.status!r} "
                                "and no trained network to export")
            return candidate
    raise UserError(f"run {results.name!r} has no candidate {wanted}; list them with python cli.py pareto "
                    f"--run {results.name}")


def stored_network(results: RunResults, candidate: EvaluatedCandidate) -> GraphNetwork:
    """The trained (pruned) network of ``candidate`` from the run store, in eval mode."""
    with RunStore(results.run.database, readonly=True) as store:
        blob = store.weights(candidate.id)
    if blob is None:
        raise UserError(f"candidate {candidate.id} of run {results.name!r} has no stored weights (runs made "
                        "before munas kept weights cannot be exported; search again)")
    architecture = candidate.pruned_architecture
    assert architecture is not None  # every ok candidate has one
    return network_from_bytes(architecture, blob, f"run {results.name!r}, candidate {candidate.id}")


def calibration_images(results: RunResults, dataset: Any) -> torch.Tensor:
    """The images munas's int8 evaluation calibrated its activation ranges on: the first
    ``calibration_batches`` batches of the validation split (held-out training images). The
    exports calibrate on the same ones, so their accuracy is comparable with munas's int8 figure."""
    train_config = results.config.train_config
    return dataset.x_val[: int(train_config["batch_size"]) * int(train_config["calibration_batches"])]


def export_candidate(results: RunResults, candidate: EvaluatedCandidate, network: GraphNetwork, fmt: str,
                     out: Path, dataset: Any) -> Exported:
    """Convert ``candidate``'s ``network`` to ``fmt`` into ``out`` and check it on ``dataset``'s test split."""
    architecture = candidate.pruned_architecture
    assert architecture is not None  # every ok candidate has one
    calibration = calibration_images(results, dataset)
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"run": results.name, "candidate": candidate.id, "format": fmt,
                              "munas_int8_test_accuracy": 1.0 - float(candidate.int8_test_error or 0.0),
                              "munas_float_test_accuracy": 1.0 - float(candidate.test_error or 0.0),
                              "calibration_images": len(calibration)}
    if fmt == "onnx":
        report |= _onnx(network, calibration, dataset, out)
    else:
        report |= _tflite(network, architecture, calibration, dataset, out, fmt == "c")
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return Exported(out, report)


def _accuracy(labels: np.ndarray, truth: torch.Tensor) -> float:
    return float((labels == truth.numpy()).mean())


def _tflite(network: GraphNetwork, architecture: Architecture, calibration: torch.Tensor, dataset: Any,
            out: Path, as_c: bool) -> dict[str, Any]:
    from munas.deploy.carray import write_c_array
    from munas.deploy.micro import arena, litert_outputs, micro_outputs
    from munas.deploy.order import reorder
    from munas.deploy.tflite import convert_int8

    resources = compute_resources(architecture, TRAINED)
    model = reorder(convert_int8(network, calibration), build_graph(architecture, TRAINED), resources.schedule)
    images = dataset.x_test.permute(0, 2, 3, 1).numpy()
    litert, micro = litert_outputs(model, images), micro_outputs(model, images)
    usage = arena(model)
    if as_c:
        files = [str(p) for p in write_c_array(model, usage.needed, out)]
    else:
        (out / "model.tflite").write_bytes(model)
        files = [str(out / "model.tflite")]
    return {"files": files, "litert_test_accuracy": _accuracy(litert.labels, dataset.y_test),
            "tflm_test_accuracy": _accuracy(micro.labels, dataset.y_test),
            "tflm_litert_label_disagreements": int((litert.labels != micro.labels).sum()),
            "tflm_litert_logit_max_difference": int(np.abs(litert.logits.astype(int) - micro.logits).max()),
            "tflm_arena_needed": usage.needed, "tflm_arena_planned": usage.planned,
            "tflm_arena_persistent": usage.persistent, "munas_pmu_tflm": resources.pmu,
            "munas_model_size_tflm": resources.model_size, "tflite_bytes": len(model)}


def _onnx(network: GraphNetwork, calibration: torch.Tensor, dataset: Any, out: Path) -> dict[str, Any]:
    from munas.deploy.onnx import export_float, export_qdq, onnx_predict

    float_path = export_float(network, calibration, out / "model.onnx")
    qdq_path = export_qdq(float_path, calibration, out / "model_int8_qdq.onnx")
    with torch.no_grad():
        logits = torch.cat([network(batch) for batch in dataset.x_test.split(1024)])
    torch_labels = ((logits[:, 0] > 0).long() if logits.shape[1] == 1 else logits.argmax(1)).numpy()
    float_labels, qdq_labels = onnx_predict(float_path, dataset.x_test), onnx_predict(qdq_path, dataset.x_test)
    return {"files": [str(float_path), str(qdq_path)], "torch_test_accuracy": _accuracy(torch_labels, dataset.y_test),
            "onnx_float_test_accuracy": _accuracy(float_labels, dataset.y_test),
            "onnx_float_agreement_with_torch": float((float_labels == torch_labels).mean()),
            "onnx_int8_qdq_test_accuracy": _accuracy(qdq_labels, dataset.y_test)}
