"""ONNX: a float model (torch's exporter) and an int8 QDQ model (onnxruntime's static quantisation).

The QDQ model has per-channel int8 weights and int8 activations calibrated on the same
validation images as the TFLite export and munas's int8 evaluation. Both are run in onnxruntime for the accuracy check.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from munas.deploy import require
from munas.training.model import GraphNetwork

INPUT = "input"


def export_float(network: GraphNetwork, sample: torch.Tensor, path: Path) -> Path:
    """The float model of ``network`` (NCHW input, dynamic batch) at ``path``."""
    require("onnxscript")
    batch = torch.export.Dim("batch")
    program = torch.onnx.export(network.eval(), (sample[:1],), dynamic_shapes={"x": {0: batch}},
                                input_names=[INPUT], output_names=["logits"], dynamo=True, verbose=False)
    assert program is not None  # dynamo=True always returns the program
    program.save(str(path))
    return path


def export_qdq(float_path: Path, calibration: torch.Tensor, path: Path) -> Path:
    """Statically quantised int8 QDQ copy of the float model (per-channel weights)."""
    quantization = require("onnxruntime.quantization")

    class Reader(quantization.CalibrationDataReader):  # type: ignore[name-defined]  # imported at run time
        def __init__(self) -> None:
            self.batches = iter([{INPUT: image[None].numpy()} for image in calibration])

        def get_next(self):
            return next(self.batches, None)

    quantization.quantize_static(str(float_path), str(path), Reader(), quant_format=quantization.QuantFormat.QDQ,
                                 per_channel=True, activation_type=quantization.QuantType.QInt8,
                                 weight_type=quantization.QuantType.QInt8)
    return path


def onnx_predict(path: Path, images: torch.Tensor) -> np.ndarray:
    """Labels onnxruntime gives NCHW float ``images``."""
    onnxruntime = require("onnxruntime")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    logits = np.concatenate([session.run(None, {INPUT: images[i:i + 512].numpy()})[0]
                             for i in range(0, len(images), 512)])
    return (logits[:, 0] > 0).astype(np.int64) if logits.shape[1] == 1 else logits.argmax(1)
