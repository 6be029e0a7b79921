"""The architecture document: one candidate CNN, μNAS-compatible.

The document is immutable (frozen dataclasses with tuples) so that a morphism can never
change its parent by accident, and so that architectures hash and compare by value.
Derived data (the channel count a branch block is forced to, the final logits layer) is
computed when the network is assembled and never written back into the document.

:func:`parse_architecture` validates untrusted JSON and raises :class:`ArchitectureError`
naming the exact path of the first problem, e.g.
``architecture.conv_blocks[2].layers[0].filters: must be an integer in 1..128, got -3``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from munas.errors import UserError

LayerType = Literal["Conv2D", "1x1Conv2D", "DWConv2D"]
LAYER_TYPES: tuple[LayerType, ...] = ("Conv2D", "1x1Conv2D", "DWConv2D")
POOL_TYPES = ("avg", "max")

# Bounds of the document format. The search space (space.bounds) uses the same numbers,
# except that pruning may shrink dense layers below the search space's 10 units.
MAX_CONV_BLOCKS = 10
MAX_LAYERS_PER_BLOCK = 3
MAX_DENSE_BLOCKS = 3
MAX_FILTERS = 128
MAX_UNITS = 256
KERNEL_SIZES = (3, 5, 7)
POOL_SIZES = (2, 4, 6)


class ArchitectureError(UserError, ValueError):
    """A document that is not a valid architecture; the message names the offending path."""


@dataclass(frozen=True)
class ConvLayer:
    """One convolution layer. ``ker_size``/``stride2`` are None for ``1x1Conv2D``;
    ``filters`` is None for ``DWConv2D`` (a depthwise conv keeps its channel count)."""

    type: LayerType
    ker_size: int | None = None
    filters: int | None = None
    stride2: bool | None = None
    has_prepool: bool = False
    has_bn: bool = False
    has_relu: bool = True

    @property
    def kernel(self) -> int:
        """Nominal kernel size (1 for a pointwise conv), before clipping to the input."""
        return 1 if self.type == "1x1Conv2D" else int(self.ker_size)  # type: ignore[arg-type]

    @property
    def stride(self) -> int:
        return 2 if self.stride2 else 1


@dataclass(frozen=True)
class ConvBlock:
    layers: tuple[ConvLayer, ...]
    is_branch: bool = False


@dataclass(frozen=True)
class Pooling:
    type: Literal["avg", "max"]
    pool_size: int


@dataclass(frozen=True)
class DenseBlock:
    units: int
    activation: str = "relu"


@dataclass(frozen=True)
class Architecture:
    """A candidate network: conv blocks, optional pooling, hidden dense blocks.

    ``input_shape`` is (height, width, channels), as in the μNAS documents. The final
    logits layer (``num_classes`` units, or 1 for two classes) is implied.
    """

    input_shape: tuple[int, int, int]
    num_classes: int
    conv_blocks: tuple[ConvBlock, ...]
    dense_blocks: tuple[DenseBlock, ...]
    pooling: Pooling | None = None
    extras: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def output_units(self) -> int:
        return 1 if self.num_classes == 2 else self.num_classes

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (μNAS layout)."""
        return {
            "input_shape": list(self.input_shape),
            "num_classes": self.num_classes,
            "architecture": {
                "conv_blocks": [
                    {"is_branch": block.is_branch, "layers": [_layer_to_dict(layer) for layer in block.layers]}
                    for block in self.conv_blocks
                ],
                "pooling": None
                if self.pooling is None
                else {"type": self.pooling.type, "pool_size": self.pooling.pool_size},
                "dense_blocks": [{"units": d.units, "activation": d.activation} for d in self.dense_blocks],
            },
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)


def _layer_to_dict(layer: ConvLayer) -> dict[str, Any]:
    out: dict[str, Any] = {"type": layer.type}
    if layer.type != "1x1Conv2D":
        out["ker_size"] = layer.ker_size
    if layer.type != "DWConv2D":
        out["filters"] = layer.filters
    if layer.type != "1x1Conv2D":
        out["2x_stride"] = layer.stride2
    out.update(has_prepool=layer.has_prepool, has_bn=layer.has_bn, has_relu=layer.has_relu)
    return out


# --------------------------------------------------------------------------- parsing


def _fail(path: str, message: str) -> None:
    raise ArchitectureError(f"{path or 'document'}: {message}")


def _describe(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (dict, list, str, bool, type(None), int, float)) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_keys(obj: Any, path: str, required: set[str], optional: frozenset[str] = frozenset()) -> dict:
    if not isinstance(obj, dict):
        _fail(path, f"must be an object, got {_describe(obj)}")
    for key in obj:
        if not isinstance(key, str) or key.startswith("_"):
            continue
        if key not in required and key not in optional:
            _fail(f"{path}.{key}" if path else key, "unknown key (derived keys must start with '_')")
    for key in sorted(required):
        if key not in obj:
            _fail(f"{path}.{key}" if path else key, "missing")
    return obj


def _int(value: Any, path: str, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        rng = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        _fail(path, f"must be an integer in {rng}, got {_describe(value)}")
    if value < lo or (hi is not None and value > hi):
        rng = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        _fail(path, f"must be an integer in {rng}, got {value}")
    return value


def _choice(value: Any, path: str, choices: tuple) -> Any:
    if isinstance(value, bool) or value not in choices:
        listed = ", ".join(_describe(c) for c in choices)
        _fail(path, f"must be one of {listed}, got {_describe(value)}")
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        _fail(path, f"must be true or false, got {_describe(value)}")
    return value


def _list(value: Any, path: str, lo: int, hi: int) -> list:
    if not isinstance(value, list):
        _fail(path, f"must be a list, got {_describe(value)}")
    if not lo <= len(value) <= hi:
        _fail(path, f"must have {lo}..{hi} entries, got {len(value)}")
    return value


_COMMON_LAYER_KEYS = {"type", "has_prepool", "has_bn", "has_relu"}
_LAYER_KEYS: dict[str, set[str]] = {
    "Conv2D": _COMMON_LAYER_KEYS | {"ker_size", "filters", "2x_stride"},
    "1x1Conv2D": _COMMON_LAYER_KEYS | {"filters"},
    "DWConv2D": _COMMON_LAYER_KEYS | {"ker_size", "2x_stride"},
}


def _parse_layer(obj: Any, path: str) -> ConvLayer:
    if not isinstance(obj, dict):
        _fail(path, f"must be an object, got {_describe(obj)}")
    if "type" not in obj:
        _fail(f"{path}.type", "missing")
    layer_type = _choice(obj["type"], f"{path}.type", LAYER_TYPES)
    _check_keys(obj, path, _LAYER_KEYS[layer_type])
    has_kernel = layer_type != "1x1Conv2D"
    has_filters = layer_type != "DWConv2D"
    return ConvLayer(
        type=layer_type,
        ker_size=_choice(obj["ker_size"], f"{path}.ker_size", KERNEL_SIZES) if has_kernel else None,
        filters=_int(obj["filters"], f"{path}.filters", 1, MAX_FILTERS) if has_filters else None,
        stride2=_bool(obj["2x_stride"], f"{path}.2x_stride") if has_kernel else None,
        has_prepool=_bool(obj["has_prepool"], f"{path}.has_prepool"),
        has_bn=_bool(obj["has_bn"], f"{path}.has_bn"),
        has_relu=_bool(obj["has_relu"], f"{path}.has_relu"),
    )


def parse_architecture(document: Any) -> Architecture:
    """Validate a decoded JSON document and build the :class:`Architecture`.

    Raises :class:`ArchitectureError` naming the first offending path.
    """
    doc = _check_keys(document, "", {"input_shape", "num_classes", "architecture"})
    shape = _list(doc["input_shape"], "input_shape", 3, 3)
    input_shape = tuple(_int(v, f"input_shape[{i}]", 1) for i, v in enumerate(shape))
    num_classes = _int(doc["num_classes"], "num_classes", 2)

    arch = _check_keys(doc["architecture"], "architecture", {"conv_blocks", "dense_blocks"}, frozenset({"pooling"}))
    blocks = []
    raw_blocks = _list(arch["conv_blocks"], "architecture.conv_blocks", 1, MAX_CONV_BLOCKS)
    for b, raw_block in enumerate(raw_blocks):
        bpath = f"architecture.conv_blocks[{b}]"
        _check_keys(raw_block, bpath, {"is_branch", "layers"})
        is_branch = _bool(raw_block["is_branch"], f"{bpath}.is_branch")
        if b == 0 and is_branch:
            _fail(f"{bpath}.is_branch", "the first block must not be a branch")
        raw_layers = _list(raw_block["layers"], f"{bpath}.layers", 1, MAX_LAYERS_PER_BLOCK)
        layers = tuple(_parse_layer(raw, f"{bpath}.layers[{i}]") for i, raw in enumerate(raw_layers))
        blocks.append(ConvBlock(layers=layers, is_branch=is_branch))

    pooling = None
    raw_pool = arch.get("pooling")
    if raw_pool is not None:
        _check_keys(raw_pool, "architecture.pooling", {"type", "pool_size"})
        pooling = Pooling(
            type=_choice(raw_pool["type"], "architecture.pooling.type", POOL_TYPES),
            pool_size=_choice(raw_pool["pool_size"], "architecture.pooling.pool_size", POOL_SIZES),
        )

    dense = []
    raw_dense = _list(arch["dense_blocks"], "architecture.dense_blocks", 1, MAX_DENSE_BLOCKS)
    for d, raw in enumerate(raw_dense):
        dpath = f"architecture.dense_blocks[{d}]"
        _check_keys(raw, dpath, {"units"}, frozenset({"activation"}))
        units = _int(raw["units"], f"{dpath}.units", 1, MAX_UNITS)
        _choice(raw.get("activation", "relu"), f"{dpath}.activation", ("relu",))
        dense.append(DenseBlock(units=units))

    extras = {k: v for k, v in doc.items() if isinstance(k, str) and k.startswith("_")}
    return Architecture(
        input_shape=input_shape,  # type: ignore[arg-type]
        num_classes=num_classes,
        conv_blocks=tuple(blocks),
        dense_blocks=tuple(dense),
        pooling=pooling,
        extras=extras,
    )


def parse_architecture_json(text: str) -> Architecture:
    """Parse JSON text; malformed JSON is an :class:`ArchitectureError` too."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ArchitectureError(f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    except RecursionError:  # nesting thousands deep: no architecture document looks like that
        raise ArchitectureError("not an architecture document: JSON nested too deeply") from None
    return parse_architecture(document)


def load_architecture(path: str | Path) -> Architecture:
    """Read and validate an architecture document from a file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ArchitectureError(f"{path}: cannot read ({error.__class__.__name__}: {error})") from None
    return parse_architecture_json(text)


def save_architecture(architecture: Architecture, path: str | Path) -> None:
    Path(path).write_text(architecture.to_json(indent=1) + "\n", encoding="utf-8")
