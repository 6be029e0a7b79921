"""The torch network of an architecture, built op by op from its operator graph.

Building from :func:`munas.resources.graph.build_graph` (the
:data:`~munas.resources.accounting.TRAINED` profile) rather than from the document means the
trained network is, by construction, the network whose PMU, size and MACs are reported: same
kernels (clipped to the input), same floor pooling, same zero-padded Adds.

Conventions (fixed, because pruning and int8 export rely on them):

* Activations are NCHW tensors (any memory format; the trainer uses ``channels_last``).
* **Flatten is NHWC order** (feature index ``(h * W + w) * C + c``), as in the Keras/TFLite
  network the μNAS resource model describes. With ``channels_last`` memory this flatten is a
  free view, and an exported dense kernel needs no permutation.
* The graph folds BatchNorm into the conv (``Op.weights + Op.biases``); here BatchNorm is a
  separate module whose 2·C affine parameters are *not* part of the op's count.
* Dropout (training only) runs before every hidden dense layer, never before the logits.

Structured pruning masks a channel at the *output* of the op that produces it (after BN and
ReLU), so a removed channel is exactly zero downstream and physically deleting it changes
nothing. The mask is applied with a straight-through gradient: the forward pass is the sparse
network, the backward pass hands the gradient at that sparse point to the dense parameters,
which is the feedback of Dynamic Pruning with Feedback (pruned channels may regrow).

**The feedback stays in the masked channel.** A masked channel's straight-through gradient
updates that channel's own kernel, bias and BatchNorm parameters and nothing else: the op that
produces it passes to its *input* only the gradient of its unmasked channels
(:class:`_FeedbackConv`, :class:`_FeedbackLinear`), so every other parameter gets exactly the
gradient of the sparse network, as with DPF's masked kernels (spec §5.3), where a zeroed
kernel passes no gradient upstream. Letting the straight-through gradient flow on into the
input (as munas did before) diverged: a depthwise conv that carries a masked channel sees a
constant zero input, its BatchNorm batch variance is 0, and its backward pass multiplies the
straight-through gradient by ``gamma / sqrt(eps)`` (about 32 at ``eps = 1e-3``); that gradient
then flowed through the masked producer into the live layers upstream, several times per
network. Random digits candidates pruned with the digits preset ended in a NaN loss 9 times in
60 (fp32 and bf16 alike, never dense); see ``benchmarks/pruning_stability.py``.

**The bias of a conv followed by BatchNorm gets no gradient.** The BatchNorm subtracts the
batch mean, so that gradient is exactly 0 in exact arithmetic (and ~0 in the reference's
float32). Under bf16 autocast it is rounding noise amplified by ``1 / sqrt(var + eps)``, largest
in channels of near-zero batch variance, which pruning creates (a masked depthwise follower's
channel is a constant). With the fix above, 1 pruned digits candidate in 120 still diverged this
way: from a mask refresh on, the biases of convs feeding a BatchNorm (masked and live) got
gradients of 1e3 and more, growing to 1e11 within 50 steps while the loss sat at chance (seed
101 of ``benchmarks/pruning_stability.py``; float32 and a detached bias both train it). The
bias is detached instead (it stays at its initial 0; the network, its parameter count and its
export are unchanged).

Deviation from the reference that follows: there a depthwise kernel is never masked, so a masked
channel still gets feedback through the depthwise conv that follows it (and through that conv's
BatchNorm, if any, at zero batch variance: the same ~32x factor). Here the follower is masked with its
producer and passes nothing back, so a masked channel whose only consumers are depthwise convs
gets no gradient; it can still return at a mask refresh if the live channels of its group fall
below it in saliency. Channels read by a Conv2D or Dense layer get their feedback as before.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from munas.resources.accounting import TRAINED
from munas.resources.graph import Op, OperatorGraph, build_graph
from munas.space.architecture import Architecture

BN_MOMENTUM = 0.01  # Keras momentum 0.99
BN_EPS = 1e-3


class _StraightThroughMask(torch.autograd.Function):
    """Forward ``x * mask``; backward passes the gradient unmasked (DPF feedback)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return x * mask

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return grad, None


def _compute_dtype(x: torch.Tensor) -> torch.dtype:
    """The dtype autocast gives a conv / matmul on ``x``'s device here (``x.dtype`` without autocast)."""
    device_type = x.device.type
    if torch.is_autocast_enabled(device_type):
        return torch.get_autocast_dtype(device_type)
    return x.dtype


class _FeedbackConv(torch.autograd.Function):
    """``conv2d(x, weight, bias)`` (valid padding) whose input gradient comes from the unmasked
    output channels only; weight and bias get the full gradient (module docstring)."""

    @staticmethod
    def forward(ctx, x, weight, bias, mask, stride, groups):
        dtype = _compute_dtype(x)
        xc, wc, bc = x.to(dtype), weight.to(dtype), bias.to(dtype)
        ctx.save_for_backward(xc, wc, mask)
        ctx.stride, ctx.groups, ctx.dtypes = stride, groups, (x.dtype, weight.dtype, bias.dtype)
        with torch.autocast(x.device.type, enabled=False):
            return F.conv2d(xc, wc, bc, stride, 0, 1, groups)

    @staticmethod
    def backward(ctx, grad):
        xc, wc, mask = ctx.saved_tensors
        grad = grad.to(wc.dtype)
        x_dtype, w_dtype, b_dtype = ctx.dtypes
        shape = (ctx.stride, [0, 0], [1, 1], False, [0, 0], ctx.groups)
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_x = torch.ops.aten.convolution_backward(grad * mask.to(grad.dtype), xc, wc, None, *shape,
                                                         [True, False, False])[0].to(x_dtype)
        _, grad_w, grad_b = torch.ops.aten.convolution_backward(grad, xc, wc, [wc.shape[0]], *shape,
                                                                [False, True, True])
        return grad_x, grad_w.to(w_dtype), grad_b.to(b_dtype), None, None, None


class _FeedbackLinear(torch.autograd.Function):
    """``linear(x, weight, bias)`` whose input gradient comes from the unmasked units only."""

    @staticmethod
    def forward(ctx, x, weight, bias, mask):
        dtype = _compute_dtype(x)
        xc, wc, bc = x.to(dtype), weight.to(dtype), bias.to(dtype)
        ctx.save_for_backward(xc, wc, mask)
        ctx.dtypes = (x.dtype, weight.dtype, bias.dtype)
        with torch.autocast(x.device.type, enabled=False):
            return F.linear(xc, wc, bc)

    @staticmethod
    def backward(ctx, grad):
        xc, wc, mask = ctx.saved_tensors
        grad = grad.to(wc.dtype)
        x_dtype, w_dtype, b_dtype = ctx.dtypes
        grad_x = (grad * mask.to(grad.dtype)) @ wc if ctx.needs_input_grad[0] else None
        grad_x = None if grad_x is None else grad_x.to(x_dtype)
        return grad_x, (grad.t() @ xc).to(w_dtype), grad.sum(0).to(b_dtype), None


class _Masked(nn.Module):
    """Base for ops whose output channels (or units) a pruning mask may switch off."""

    mask_shape: tuple[int, ...] = (1, -1)
    """How a 1-D channel mask broadcasts over this op's output."""

    def __init__(self) -> None:
        super().__init__()
        self.mask: torch.Tensor | None = None
        self._removes = False

    def set_mask(self, mask: torch.Tensor | None) -> None:
        """``mask``: 1-D 0/1 float tensor over output channels, or None for dense."""
        self.mask = None if mask is None else mask.reshape(self.mask_shape)
        self._removes = mask is not None and not bool(mask.all())  # one sync per mask refresh

    def _apply_mask(self, y: torch.Tensor) -> torch.Tensor:
        if self.mask is None:
            return y
        return _StraightThroughMask.apply(y, self.mask)

    def _feedback(self) -> bool:
        """Whether this forward pass must keep masked channels' gradient out of the input."""
        return self._removes and torch.is_grad_enabled()


class ConvUnit(_Masked):
    """Conv2D / 1x1 / depthwise conv (valid padding, bias), optional BatchNorm and ReLU."""

    mask_shape = (1, -1, 1, 1)

    def __init__(self, op: Op):
        super().__init__()
        groups = op.in_channels if op.kind == "DWConv2D" else 1
        self.conv = nn.Conv2d(op.in_channels, op.out_channels, op.kernel, op.stride, padding=0, groups=groups)
        self.bn = nn.BatchNorm2d(op.out_channels, eps=BN_EPS, momentum=BN_MOMENTUM) if op.has_bn else None
        self.relu = op.has_relu
        _glorot_uniform(self.conv.weight, op)
        assert self.conv.bias is not None  # built with bias=True (nn.Conv2d's default)
        nn.init.zeros_(self.conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv = self.conv
        # Before a BatchNorm the bias cancels out: its gradient is 0 in exact arithmetic but bf16
        # rounding noise times 1/sqrt(var + eps) (up to ~32) in practice, which SGD integrates
        # until the bias drowns the signal (module docstring). It stays at its initial 0.
        bias = conv.bias
        assert bias is not None
        if self.bn is not None:
            bias = bias.detach()
        if self._feedback():
            y = _FeedbackConv.apply(x, conv.weight, bias, self.mask, conv.stride, conv.groups)
        else:
            y = F.conv2d(x, conv.weight, bias, conv.stride, 0, 1, conv.groups)
        if self.bn is not None:
            y = self.bn(y)
        if self.relu:
            y = F.relu(y)
        return self._apply_mask(y)


class DenseUnit(_Masked):
    """Flatten (NHWC order) if needed, dropout (hidden layers), linear, optional ReLU."""

    def __init__(self, op: Op, dropout: float):
        super().__init__()
        self.linear = nn.Linear(op.in_channels, op.out_channels)
        self.dropout = nn.Dropout(dropout) if dropout > 0 and op.has_relu else None
        self.relu = op.has_relu
        _glorot_uniform(self.linear.weight, op)
        nn.init.zeros_(self.linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:
            x = x.permute(0, 2, 3, 1).flatten(1)
        if self.dropout is not None:
            x = self.dropout(x)
        if self._feedback():
            y = _FeedbackLinear.apply(x, self.linear.weight, self.linear.bias, self.mask)
        else:
            y = self.linear(x)
        if self.relu:
            y = F.relu(y)
        return self._apply_mask(y)


class PoolUnit(nn.Module):
    """Max or average pooling, window = stride, floor rounding (torch default)."""

    def __init__(self, op: Op):
        super().__init__()
        cls = nn.MaxPool2d if op.pool_type == "max" else nn.AvgPool2d
        self.pool = cls(op.kernel, op.stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)


class PadUnit(nn.Module):
    """Zero rows at the bottom and zero columns at the right (before a zero-padded Add)."""

    def __init__(self, op: Op):
        super().__init__()
        self.rows, self.cols = op.padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, (0, self.cols, 0, self.rows))


class AddUnit(nn.Module):
    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


def _glorot_uniform(weight: torch.Tensor, op: Op) -> None:
    """Keras' default kernel initialiser: U(±sqrt(6 / (fan_in + fan_out))).

    For a depthwise kernel Keras' fans are (k²·C, k²) and torch's are (k², k²·C): the sum,
    hence the bound, is the same, so one formula covers both.
    """
    fan_in = weight[0].numel()
    fan_out = weight.shape[0] * (weight[0, 0].numel() if weight.dim() == 4 else 1)
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    nn.init.uniform_(weight, -bound, bound)


def _make_unit(op: Op, dropout: float) -> nn.Module:
    if op.kind in ("Conv2D", "DWConv2D"):
        return ConvUnit(op)
    if op.kind == "Dense":
        return DenseUnit(op, dropout)
    if op.kind == "Pool":
        return PoolUnit(op)
    if op.kind == "Pad":
        return PadUnit(op)
    if op.kind == "Add":
        return AddUnit()
    raise ValueError(f"unknown op kind {op.kind!r}")


class GraphNetwork(nn.Module):
    """Runs the ops of an operator graph in their (topological) order.

    ``units[i]`` implements ``graph.ops[i]``. Intermediate tensors are dropped as soon as
    their last consumer has run, so the Python loop holds no more than the network needs.
    """

    def __init__(self, graph: OperatorGraph, dropout: float = 0.0):
        super().__init__()
        self.graph = graph
        self.units = nn.ModuleList(_make_unit(op, dropout) for op in graph.ops)
        last_use: dict[int, int] = {}
        for index, op in enumerate(graph.ops):
            for tensor in op.inputs:
                last_use[tensor] = index
        self._plan = [
            (op.inputs, op.output, tuple(t for t in set(op.inputs) if last_use[t] == index))
            for index, op in enumerate(graph.ops)
        ]
        self._input, self._output = graph.input, graph.output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tensors: dict[int, torch.Tensor] = {self._input: x}
        for unit, (inputs, output, dead) in zip(self.units, self._plan):
            tensors[output] = unit(*(tensors[t] for t in inputs))
            for t in dead:
                del tensors[t]
        return tensors[self._output]

    def masked_units(self) -> dict[str, _Masked]:
        """Op name -> unit for every op that may carry a pruning mask."""
        return {op.name: unit for op, unit in zip(self.graph.ops, self.units) if isinstance(unit, _Masked)}

    def set_masks(self, masks: Mapping[str, torch.Tensor | None]) -> None:
        """Install per-op output-channel masks (op name -> mask); ops not named are dense."""
        units = self.masked_units()
        for name, unit in units.items():
            unit.set_mask(masks.get(name))


def build_network(architecture: Architecture, dropout: float = 0.0) -> GraphNetwork:
    """The trainable network of ``architecture`` (exactly its operator graph under :data:`TRAINED`)."""
    return GraphNetwork(build_graph(architecture, TRAINED), dropout)
