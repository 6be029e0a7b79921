"""Running an int8 ``.tflite`` in TFLite Micro's own interpreter and in LiteRT.

TFLite Micro reports how it split its arena: the *head* holds the activation buffers its
memory planner laid out (what munas's PMU models), the *tail* the interpreter's persistent
bookkeeping (tensor structs, node registrations, quantisation parameters, kernels' persistent
buffers). Both are read from its allocation report. Head + tail is not quite enough (the
allocator aligns the arena's start and its sections), so the arena the device needs is the
smallest that allocates, found by bisection.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass

import numpy as np

from munas.deploy import capture_stderr, require

_PROBE_ARENA = 8 << 20


@dataclass(frozen=True)
class Arena:
    planned: int
    """Bytes of the planner's activation area (the arena head)."""
    persistent: int
    """Bytes of the interpreter's own structures (the arena tail)."""

    needed: int
    """The smallest arena TFLite Micro allocates this model in (what the C export declares)."""


def micro_interpreter(model: bytes, arena_size: int = _PROBE_ARENA):
    runtime = require("tflite_micro").runtime
    return runtime.Interpreter.from_bytes(model, arena_size=arena_size)


def allocation(model: bytes) -> tuple[int, int]:
    """(head, tail) bytes of TFLite Micro's arena for ``model``, from its allocation report."""
    interpreter = micro_interpreter(model)
    report = capture_stderr(interpreter.print_allocations)
    head = re.search(r"Arena allocation head (\d+) bytes", report)
    tail = re.search(r"Arena allocation tail (\d+) bytes", report)
    if head is None or tail is None:
        raise RuntimeError(f"unexpected TFLite Micro allocation report: {report[:200]!r}")
    return int(head.group(1)), int(tail.group(1))


def arena(model: bytes) -> Arena:
    """The arena TFLite Micro needs for ``model``: its report, and the smallest that allocates."""
    planned, persistent = allocation(model)
    return Arena(planned, persistent, _smallest_arena(model, planned + persistent))


_PROBE = ("import sys; from tflite_micro import runtime; "
          "runtime.Interpreter.from_bytes(open(sys.argv[1], 'rb').read(), arena_size=int(sys.argv[2]))")


def _allocates(model: bytes, size: int) -> bool:
    """Whether TFLite Micro allocates ``model`` in ``size`` bytes. Each probe runs in its own
    process: after a failed allocation the tflite-micro Python wrapper can crash its process
    (a segmentation fault a few probes later)."""
    with tempfile.NamedTemporaryFile(suffix=".tflite") as file:
        file.write(model)
        file.flush()
        probe = subprocess.run([sys.executable, "-c", _PROBE, file.name, str(size)], capture_output=True)
    return probe.returncode == 0


def _smallest_arena(model: bytes, reported: int) -> int:
    """Bisection for the smallest arena that allocates, from the reported head + tail."""
    low, high, slack = reported - 1, reported, 16
    while not _allocates(model, high):
        low, high, slack = high, reported + slack, slack * 2
        if slack > _PROBE_ARENA:
            raise RuntimeError(f"TFLite Micro does not allocate the model in {high} bytes")
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if _allocates(model, middle) else (middle, high)
    return high


def quantize_input(images: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Float NHWC images on the model input's int8 grid."""
    return np.clip(np.round(images / scale) + zero_point, -128, 127).astype(np.int8)


def labels(logits: np.ndarray, zero_point: int) -> np.ndarray:
    """Class of int8 logits: argmax, or logit > 0 (``q > zero point``) for one binary logit."""
    return (logits[:, 0] > zero_point).astype(np.int64) if logits.shape[1] == 1 else logits.argmax(1)


@dataclass(frozen=True)
class Outputs:
    logits: np.ndarray
    """int8 logits, one row per image."""
    zero_point: int
    """Zero point of the logits (a binary logit is positive above it)."""

    @property
    def labels(self) -> np.ndarray:
        return labels(self.logits, self.zero_point)


def litert_outputs(model: bytes, images: np.ndarray) -> Outputs:
    """What LiteRT's interpreter gives float NHWC ``images`` (quantised as the model input says).
    Its reference kernels, the ones TFLite Micro's kernels are ported from: its default optimised
    kernels (and XNNPACK) round differently, by one step of a logit on a few images."""
    interpreter_module = require("ai_edge_litert.interpreter")
    interpreter = interpreter_module.Interpreter(
        model_content=model, experimental_op_resolver_type=interpreter_module.OpResolverType.BUILTIN_REF)
    interpreter.allocate_tensors()
    (source,), (sink,) = interpreter.get_input_details(), interpreter.get_output_details()
    scale, zero_point = source["quantization"]
    data = quantize_input(images, scale, zero_point)
    logits = np.empty((len(data), sink["shape"][-1]), dtype=np.int8)
    for index, image in enumerate(data):
        interpreter.set_tensor(source["index"], image[None])
        interpreter.invoke()
        logits[index] = interpreter.get_tensor(sink["index"])[0]
    return Outputs(logits, int(sink["quantization"][1]))


def micro_outputs(model: bytes, images: np.ndarray) -> Outputs:
    """What TFLite Micro's interpreter gives float NHWC ``images``."""
    interpreter = micro_interpreter(model)
    source, sink = interpreter.get_input_details(0), interpreter.get_output_details(0)
    scale, zero_point = _scale(source)
    data = quantize_input(images, scale, zero_point)
    outputs = []
    for image in data:
        interpreter.set_input(image[None], 0)
        interpreter.invoke()
        outputs.append(np.asarray(interpreter.get_output(0)).reshape(-1))
    return Outputs(np.stack(outputs), _scale(sink)[1])


def _scale(details: dict) -> tuple[float, int]:
    parameters = details["quantization_parameters"]
    return float(parameters["scales"][0]), int(parameters["zero_points"][0])
