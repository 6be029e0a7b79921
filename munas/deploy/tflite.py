"""A trained network as a fully int8 ``.tflite``, written by the LiteRT converter (litert-torch).

PT2E static quantisation (per-channel symmetric int8 weights, per-tensor int8 activations
calibrated on the images munas's int8 evaluation calibrated on, the first validation batches)
then ``litert_torch.convert``. BatchNorm is folded into its conv first, the same fold munas's
int8 simulation makes (PT2E's own conv-BN fusion fails on a conv whose bias is detached before
its BatchNorm, as munas's training model computes it). The network takes NHWC input
(:func:`litert_torch.to_channel_last_io`): munas's networks are NCHW, and without the wrapper
the converter adds a transpose (a copy of the input: one extra input-sized buffer in the
arena) in front of the first layer. The converter also moves the int8 (de)quantisation of the
input and output out of the model, so the device feeds int8 and reads int8.

The stock quantizer annotates convs, linears, max pools and one add per source partition; an
average pool, a zero pad or the inner adds of a 3-way Add would stay float (a DEQUANTIZE, a
float op, a QUANTIZE), which TFLite Micro runs but is not an int8 network. Pools and pads are
annotated here with their input's grid, as TFLite's int8 AVERAGE_POOL_2D and PAD require
(same scale and zero point in and out), and every add gets int8 inputs and output.
"""

from __future__ import annotations

import os

import torch

from munas.deploy import require
from munas.training.model import GraphNetwork
from munas.training.quantization import folded_network


def convert_int8(network: GraphNetwork, calibration: torch.Tensor) -> bytes:
    """The int8 ``.tflite`` of ``network`` (eval mode, NCHW float) calibrated on ``calibration`` (N, C, H, W)."""
    os.environ.setdefault("LITERT_TORCH_SHOW_PROGRESS", "n")
    litert_torch = require("litert_torch")
    pt2e = require("litert_torch.quantize.pt2e_quantizer")
    quant_config = require("litert_torch.quantize.quant_config")
    quantize_pt2e = require("torchao.quantization.pt2e.quantize_pt2e")

    network = folded_network(network)  # BatchNorm folded as munas's int8 simulation does it (module docstring)
    nhwc = calibration.permute(0, 2, 3, 1).contiguous().float()
    model = litert_torch.to_channel_last_io(network, args=[0]).eval()
    sample = (nhwc[:1],)
    quantizer = _quantizer(pt2e).set_global(
        pt2e.get_symmetric_quantization_config(is_per_channel=True, is_dynamic=False))
    with torch.no_grad():
        exported = torch.export.export(model, sample).module()
        prepared = quantize_pt2e.prepare_pt2e(exported, quantizer)
        for image in nhwc:  # the exported graph has batch size 1
            prepared(image[None])
        quantized = quantize_pt2e.convert_pt2e(prepared, fold_quantize=False)
        edge = litert_torch.convert(quantized, sample, quant_config=quant_config.QuantConfig(pt2e_quantizer=quantizer))
    return bytes(edge.model_content())


_SHARED_GRID_OPS = ("pad", "constant_pad_nd", "avg_pool2d")
_INT8_OPS = ("add",)


def _quantizer(pt2e):
    """The litert-torch PT2E quantizer, also annotating average pools and pads (module docstring)."""
    utils = require("litert_torch.quantize.pt2e_quantizer_utils")
    annotation = require("torchao.quantization.pt2e.quantizer")

    class SharedGridQuantizer(pt2e.PT2EQuantizer):  # type: ignore[name-defined]  # imported at run time
        def annotate(self, model: torch.fx.GraphModule) -> torch.fx.GraphModule:
            model = super().annotate(model)
            spec = utils.get_input_act_qspec(self.global_config)
            for node in model.graph.nodes:
                name = getattr(node.target, "__name__", "").split(".")[0]
                if node.op != "call_function" or "quantization_annotation" in node.meta:
                    continue
                if name in _SHARED_GRID_OPS:
                    source = node.args[0]
                    node.meta["quantization_annotation"] = annotation.QuantizationAnnotation(
                        input_qspec_map={source: spec},
                        output_qspec=annotation.SharedQuantizationSpec((source, node)), _annotated=True)
                elif name in _INT8_OPS:
                    node.meta["quantization_annotation"] = annotation.QuantizationAnnotation(
                        input_qspec_map={arg: spec for arg in node.args if isinstance(arg, torch.fx.Node)},
                        output_qspec=spec, _annotated=True)
            return model

    return SharedGridQuantizer()
