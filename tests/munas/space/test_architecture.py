"""Architecture documents: round trip, μNAS compatibility, and one clear error per malformed input.

The ``MALFORMED`` table below is the catalogue of bad inputs tried and the exact error each gets.
"""

from __future__ import annotations

import copy
import json

import pytest

from munas.space.architecture import ArchitectureError, parse_architecture, parse_architecture_json

VALID = {
    "input_shape": [28, 28, 1],
    "num_classes": 10,
    "architecture": {
        "conv_blocks": [
            {"is_branch": False, "layers": [
                {"type": "Conv2D", "ker_size": 3, "filters": 16, "2x_stride": False,
                 "has_prepool": False, "has_bn": True, "has_relu": True}]},
            {"is_branch": True, "layers": [
                {"type": "DWConv2D", "ker_size": 5, "2x_stride": True, "has_prepool": True,
                 "has_bn": False, "has_relu": True},
                {"type": "1x1Conv2D", "filters": 8, "has_prepool": False, "has_bn": False, "has_relu": False}]},
        ],
        "pooling": {"type": "avg", "pool_size": 2},
        "dense_blocks": [{"units": 32, "activation": "relu"}],
    },
}


def edited(path: str, value, delete: bool = False) -> dict:
    """A copy of VALID with the value at a dotted/indexed path replaced (or deleted)."""
    doc = copy.deepcopy(VALID)
    keys = []
    for part in path.replace("]", "").split("."):
        name, *indices = part.split("[")
        keys.append(name)
        keys.extend(int(i) for i in indices)
    target = doc
    for key in keys[:-1]:
        target = target[key]
    if delete:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return doc


MALFORMED = [
    # (description, document, expected error)
    ("missing top-level key", edited("num_classes", None, delete=True), "num_classes: missing"),
    ("missing layer field", edited("architecture.conv_blocks[0].layers[0].filters", None, delete=True),
     "architecture.conv_blocks[0].layers[0].filters: missing"),
    ("filters out of range", edited("architecture.conv_blocks[0].layers[0].filters", -3),
     "architecture.conv_blocks[0].layers[0].filters: must be an integer in 1..128, got -3"),
    ("filters wrong type", edited("architecture.conv_blocks[0].layers[0].filters", "16"),
     'architecture.conv_blocks[0].layers[0].filters: must be an integer in 1..128, got "16"'),
    ("filters as bool", edited("architecture.conv_blocks[0].layers[0].filters", True),
     "architecture.conv_blocks[0].layers[0].filters: must be an integer in 1..128, got true"),
    ("kernel not in 3/5/7", edited("architecture.conv_blocks[0].layers[0].ker_size", 4),
     "architecture.conv_blocks[0].layers[0].ker_size: must be one of 3, 5, 7, got 4"),
    ("unknown layer type", edited("architecture.conv_blocks[0].layers[0].type", "Conv3D"),
     'architecture.conv_blocks[0].layers[0].type: must be one of "Conv2D", "1x1Conv2D", "DWConv2D", got "Conv3D"'),
    ("field not allowed for type", edited("architecture.conv_blocks[1].layers[1].ker_size", 3),
     "architecture.conv_blocks[1].layers[1].ker_size: unknown key (derived keys must start with '_')"),
    ("bool expected", edited("architecture.conv_blocks[0].layers[0].has_bn", 1),
     "architecture.conv_blocks[0].layers[0].has_bn: must be true or false, got 1"),
    ("first block is a branch", edited("architecture.conv_blocks[0].is_branch", True),
     "architecture.conv_blocks[0].is_branch: the first block must not be a branch"),
    ("empty network", edited("architecture.conv_blocks", []),
     "architecture.conv_blocks: must have 1..10 entries, got 0"),
    ("too many layers", edited("architecture.conv_blocks[0].layers", VALID["architecture"]["conv_blocks"][0]["layers"] * 4),
     "architecture.conv_blocks[0].layers: must have 1..3 entries, got 4"),
    ("no dense block", edited("architecture.dense_blocks", []),
     "architecture.dense_blocks: must have 1..3 entries, got 0"),
    ("units out of range", edited("architecture.dense_blocks[0].units", 300),
     "architecture.dense_blocks[0].units: must be an integer in 1..256, got 300"),
    ("bad activation", edited("architecture.dense_blocks[0].activation", "tanh"),
     'architecture.dense_blocks[0].activation: must be one of "relu", got "tanh"'),
    ("bad pool size", edited("architecture.pooling.pool_size", 3),
     "architecture.pooling.pool_size: must be one of 2, 4, 6, got 3"),
    ("pooling not an object", edited("architecture.pooling", "avg"),
     'architecture.pooling: must be an object, got "avg"'),
    ("input shape of two dims", edited("input_shape", [28, 28]), "input_shape: must have 3..3 entries, got 2"),
    ("zero input dimension", edited("input_shape", [28, 0, 1]), "input_shape[1]: must be an integer in >= 1, got 0"),
    ("one class", edited("num_classes", 1), "num_classes: must be an integer in >= 2, got 1"),
    ("unknown key", edited("architecture.extra", 1), "architecture.extra: unknown key (derived keys must start with '_')"),
    ("not an object", [1, 2], "document: must be an object, got [1, 2]"),
]


@pytest.mark.parametrize("description, document, expected", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_documents_name_the_offending_path(description, document, expected):
    with pytest.raises(ArchitectureError) as info:
        parse_architecture(document)
    assert str(info.value) == expected


def test_invalid_json_is_an_architecture_error():
    with pytest.raises(ArchitectureError, match="not valid JSON"):
        parse_architecture_json("{not json")


def test_round_trip_is_lossless():
    architecture = parse_architecture(VALID)
    assert architecture.to_dict() == VALID
    assert parse_architecture(json.loads(architecture.to_json())) == architecture


def test_derived_underscore_keys_are_ignored():
    """μNAS writes ``_weights`` and ``_final_dense``; importing its documents must work."""
    doc = copy.deepcopy(VALID)
    doc["architecture"]["_final_dense"] = {"units": 10, "activation": None}
    doc["architecture"]["conv_blocks"][0]["layers"][0]["_weights"] = ["conv2d/kernel:0", "conv2d/bias:0"]
    doc["_note"] = "imported"
    assert parse_architecture(doc) == parse_architecture(VALID)


def test_pooling_may_be_absent_or_null():
    without = copy.deepcopy(VALID)
    del without["architecture"]["pooling"]
    assert parse_architecture(without).pooling is None
    assert parse_architecture(edited("architecture.pooling", None)).pooling is None


def test_two_classes_means_one_logit():
    assert parse_architecture(edited("num_classes", 2)).output_units == 1
    assert parse_architecture(VALID).output_units == 10
