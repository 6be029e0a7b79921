"""Architecture documents for tests, free of torch: the layer-document builder and a branchy
network whose channel groups the resource and training tests both check."""

from __future__ import annotations

from munas.space.architecture import parse_architecture


def layer(kind: str, filters: int = 8, has_bn: bool = True, **kw) -> dict:
    """A layer document: no pre-pool, ReLU, a 3x3 kernel and stride 1 where ``kind`` has them."""
    document = {"type": kind, "has_prepool": False, "has_bn": has_bn, "has_relu": True}
    if kind != "1x1Conv2D":
        document.update(ker_size=3, **{"2x_stride": False})
    if kind != "DWConv2D":
        document["filters"] = filters
    document.update(kw)
    return document


def conv(filters: int, **kw) -> dict:
    return layer("Conv2D", filters, **kw)


BRANCHY = parse_architecture({
    "input_shape": [12, 12, 1], "num_classes": 10,
    "architecture": {
        "conv_blocks": [
            {"is_branch": False, "layers": [layer("Conv2D", filters=8, has_prepool=True)]},
            {"is_branch": False, "layers": [layer("Conv2D", filters=12), layer("DWConv2D")]},
            {"is_branch": True, "layers": [layer("1x1Conv2D", filters=6), layer("DWConv2D", ker_size=5)]},
            {"is_branch": False, "layers": [layer("Conv2D", filters=10)]},
        ],
        "pooling": {"type": "avg", "pool_size": 2},
        "dense_blocks": [{"units": 20}],
    },
})
"""Pre-pooled first conv, a trunk conv + depthwise, a branch whose trailing depthwise gets a
1x1 match conv, a last conv, avg pooling and a hidden dense layer."""
