"""The operator graph of an architecture: the single place where a document is assembled.

Everything downstream reads this graph: the resource models (peak memory, size, MACs), the
torch network (built op by op from it, so what is trained is what is measured) and the
surrogate's graph encoding. Assembly follows the reference spec §1.3: valid padding, kernels
clipped to the input, pre-pools skipped on 1x1 maps, branch blocks starting from the input of
the last trunk block, the last layer of a branch forced to the trunk's channel count (plus a
1x1 conv after a trailing depthwise conv), tie-up by max-pool and zero-padded Add, then
pooling, hidden dense layers and the logits layer.

Only activation tensors are nodes; weights are attributes of the op that owns them (they
live in flash, not in the RAM the peak-memory model counts). Ops are stored in a valid
topological order (the order of assembly).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from munas.resources.accounting import TRAINED, Accounting, get_accounting
from munas.space.architecture import Architecture, ConvLayer

OpKind = Literal["Conv2D", "DWConv2D", "Pool", "Pad", "Add", "Dense"]
Shape = tuple[int, ...]


@dataclass(frozen=True)
class Op:
    """One operator. ``inputs`` and ``output`` index :attr:`OperatorGraph.shapes`."""

    name: str
    kind: OpKind
    inputs: tuple[int, ...]
    output: int
    kernel: tuple[int, int] = (1, 1)
    """Convolution kernel or pooling window (height, width)."""
    stride: tuple[int, int] = (1, 1)
    in_channels: int = 0
    out_channels: int = 0
    weights: int = 0
    """Number of weight elements (kernel); biases are counted separately."""
    biases: int = 0
    macs: int = 0
    has_bn: bool = False
    has_relu: bool = False
    pool_type: Literal["avg", "max"] | None = None
    padding: tuple[int, int] = (0, 0)
    """For ``Pad``: rows added at the bottom and columns added at the right."""
    source: str = ""
    """Where the op comes from in the document, e.g. ``conv_blocks[1].layers[0]``."""


@dataclass
class OperatorGraph:
    """Activation tensors (by shape) and operators in assembly (topological) order."""

    accounting: Accounting
    shapes: list[Shape] = field(default_factory=list)
    ops: list[Op] = field(default_factory=list)
    input: int = 0
    output: int = 0

    def tensor_bytes(self, tensor: int) -> int:
        return math.prod(self.shapes[tensor]) * self.accounting.activation_bytes

    def producer(self) -> dict[int, int]:
        """Map tensor -> index of the op producing it (the network input has none)."""
        return {op.output: index for index, op in enumerate(self.ops)}

    def consumers(self) -> dict[int, list[int]]:
        """Map tensor -> indices of the ops reading it."""
        result: dict[int, list[int]] = {tensor: [] for tensor in range(len(self.shapes))}
        for index, op in enumerate(self.ops):
            for tensor in op.inputs:
                result[tensor].append(index)
        return result

    @property
    def model_size(self) -> int:
        """Bytes of all weights and biases (the flash footprint, without format overhead)."""
        acc = self.accounting
        return sum(op.weights * acc.weight_bytes + op.biases * acc.bias_bytes for op in self.ops)

    @property
    def macs(self) -> int:
        return sum(op.macs for op in self.ops)

    @property
    def parameters(self) -> int:
        """Weight and bias elements (what the float network holds, BatchNorm folded)."""
        return sum(op.weights + op.biases for op in self.ops)


class _Builder:
    def __init__(self, accounting: Accounting):
        self.graph = OperatorGraph(accounting=accounting)
        self._names: dict[str, int] = {}

    def tensor(self, shape: Shape) -> int:
        assert all(d >= 1 for d in shape), shape
        self.graph.shapes.append(tuple(shape))
        return len(self.graph.shapes) - 1

    def add(self, name: str, kind: OpKind, inputs: tuple[int, ...], out_shape: Shape, **attrs) -> int:
        count = self._names.get(name, 0)
        self._names[name] = count + 1
        unique = name if count == 0 else f"{name}_{count}"
        output = self.tensor(out_shape)
        self.graph.ops.append(Op(name=unique, kind=kind, inputs=inputs, output=output, **attrs))
        return output

    def shape(self, tensor: int) -> Shape:
        return self.graph.shapes[tensor]

    def pooled(self, size: int, window: int) -> int:
        if self.graph.accounting.pool_rounding == "ceil":
            return -(-size // window)
        return size // window

    # -- layers -------------------------------------------------------------------------

    def pool(self, x: int, window: tuple[int, int], pool_type: str, name: str, source: str) -> int:
        h, w, c = self.shape(x)
        oh, ow = self.pooled(h, window[0]), self.pooled(w, window[1])
        return self.add(
            name, "Pool", (x,), (oh, ow, c), kernel=window, stride=window, in_channels=c, out_channels=c,
            macs=oh * ow * c * window[0] * window[1], pool_type=pool_type, source=source,
        )

    def conv_layer(self, x: int, layer: ConvLayer, filters: int | None, name: str, source: str) -> int:
        h, w, c = self.shape(x)
        if layer.has_prepool and (h > 1 or w > 1):
            x = self.pool(x, (min(2, h), min(2, w)), "max", f"{name}/prepool", source)
            h, w, c = self.shape(x)
        k = 1 if layer.type == "1x1Conv2D" else min(layer.kernel, h, w)
        s = layer.stride if layer.type != "1x1Conv2D" else 1
        oh, ow = (h - k) // s + 1, (w - k) // s + 1
        common = dict(kernel=(k, k), stride=(s, s), in_channels=c, has_bn=layer.has_bn,
                      has_relu=layer.has_relu, source=source)
        if layer.type == "DWConv2D":
            return self.add(f"{name}/dwconv", "DWConv2D", (x,), (oh, ow, c), out_channels=c,
                            weights=k * k * c, biases=c, macs=oh * ow * c * k * k, **common)
        assert filters is not None, "a Conv2D or 1x1Conv2D layer has filters"
        cout = int(filters)
        return self.add(f"{name}/conv", "Conv2D", (x,), (oh, ow, cout), out_channels=cout,
                        weights=k * k * c * cout, biases=cout, macs=oh * ow * cout * k * k * c, **common)

    def tie_up(self, pending: list[int], name: str) -> int:
        """Max-pool operands down to the smallest spatial size, then a zero-padded Add."""
        if len(pending) == 1:
            return pending[0]
        H = min(self.shape(t)[0] for t in pending)
        W = min(self.shape(t)[1] for t in pending)
        operands = []
        for i, t in enumerate(pending):
            h, w, _ = self.shape(t)
            dh, dw = round(h / H), round(w / W)  # Python round: half to even, as the reference
            if dh > 1 or dw > 1:
                t = self.pool(t, (dh, dw), "max", f"{name}/pool{i}", name)
            operands.append(t)
        out_shape = tuple(max(self.shape(t)[d] for t in operands) for d in range(3))
        if self.graph.accounting.explicit_padding:
            padded = []
            for i, t in enumerate(operands):
                h, w, c = self.shape(t)
                if (h, w) != out_shape[:2]:
                    t = self.add(f"{name}/pad{i}", "Pad", (t,), (out_shape[0], out_shape[1], c),
                                 padding=(out_shape[0] - h, out_shape[1] - w), in_channels=c,
                                 out_channels=c, source=name)
                padded.append(t)
            operands = padded
        size = math.prod(out_shape)
        return self.add(f"{name}/add", "Add", tuple(operands), out_shape, in_channels=out_shape[2],
                        out_channels=out_shape[2], macs=(len(operands) - 1) * size, source=name)

    def dense(self, x: int, units: int, relu: bool, name: str, source: str) -> int:
        n = math.prod(self.shape(x))
        return self.add(name, "Dense", (x,), (units,), in_channels=n, out_channels=units, weights=n * units,
                        biases=units, macs=n * units, has_relu=relu, source=source)


def build_graph(architecture: Architecture, accounting: str | Accounting = TRAINED) -> OperatorGraph:
    """Assemble the operator graph of ``architecture`` under an accounting profile (by default the
    one whose shapes are the trained network's)."""
    builder = _Builder(get_accounting(accounting))
    h, w, c = architecture.input_shape
    x = builder.tensor((h, w, c))
    builder.graph.input = x
    pending = [x]
    branch_source = x
    for b, block in enumerate(architecture.conv_blocks):
        if not block.is_branch:
            x = builder.tie_up(pending, f"tieup{b}")
            branch_source = x
            for i, layer in enumerate(block.layers):
                x = builder.conv_layer(x, layer, layer.filters, f"block{b}/layer{i}", f"conv_blocks[{b}].layers[{i}]")
            pending = [x]
        else:
            trunk_channels = builder.shape(pending[0])[2]
            x = branch_source
            last = len(block.layers) - 1
            for i, layer in enumerate(block.layers):
                filters = trunk_channels if i == last else layer.filters
                x = builder.conv_layer(x, layer, filters, f"block{b}/layer{i}", f"conv_blocks[{b}].layers[{i}]")
            if block.layers[last].type == "DWConv2D":  # DW cannot change its channel count
                x = builder.conv_layer(
                    x, ConvLayer(type="1x1Conv2D", filters=trunk_channels, has_relu=False),
                    trunk_channels, f"block{b}/match", f"conv_blocks[{b}]",
                )
            pending.append(x)
    x = builder.tie_up(pending, "tieup_final")
    if architecture.pooling is not None:
        ph, pw, _ = builder.shape(x)
        size = architecture.pooling.pool_size
        x = builder.pool(x, (min(size, ph), min(size, pw)), architecture.pooling.type, "pool", "pooling")
    for d, dense in enumerate(architecture.dense_blocks):
        x = builder.dense(x, dense.units, True, f"dense{d}", f"dense_blocks[{d}]")
    x = builder.dense(x, architecture.output_units, False, "logits", "final_dense")
    builder.graph.output = x
    return builder.graph
