"""Put the operators of a ``.tflite`` in munas's memory-optimal order.

A TFLite interpreter runs a subgraph's operators in the order they are stored, and TFLite
Micro plans its arena from the tensor lifetimes that order gives, so the order munas's PMU
was computed for must be written into the file. As tflite-tools does, the model is read
into the flatbuffer object API of the LiteRT schema, its operator list permuted and the model
packed again (the library writes the flatbuffer; nothing else changes).

Which munas op a TFLite operator implements comes from the tensor names the converter keeps
(``…ConvUnit_3…``: unit 3 of the :class:`~munas.training.model.GraphNetwork`, i.e. ``graph.ops[3]``).
Helper operators without a unit of their own (a requantisation, a flatten) inherit the rank
of the latest unit they read from, so they stay next to it. The result is a topological
order by (rank, original position): always a valid schedule, whatever the converter fused.
"""

from __future__ import annotations

import heapq
import re

from munas.deploy import require
from munas.resources.graph import OperatorGraph

_UNIT = re.compile(r"(?:Conv|Dense|Pool|Pad|Add)Unit_(\d+)")
TFLITE_IDENTIFIER = b"TFL3"


def _schema():
    return require("ai_edge_litert.schema_py_generated")


def operator_names(model: bytes) -> list[str]:
    """The builtin names of the main subgraph's operators, in stored order."""
    schema = _schema()
    tree = schema.ModelT.InitFromPackedBuf(model, 0)
    names = {value: name for name, value in vars(schema.BuiltinOperator).items() if not name.startswith("_")}
    codes = [max(code.builtinCode, code.deprecatedBuiltinCode) for code in tree.operatorCodes]
    return [names.get(codes[op.opcodeIndex], "CUSTOM") for op in tree.subgraphs[0].operators]


def reorder(model: bytes, graph: OperatorGraph, schedule: tuple[str, ...]) -> bytes:
    """``model`` with its operators in the order of ``schedule`` (op names of ``graph``)."""
    flatbuffers = require("flatbuffers")
    schema = _schema()
    tree = schema.ModelT.InitFromPackedBuf(model, 0)
    subgraph = tree.subgraphs[0]
    operators = list(subgraph.operators)
    position = {name: rank for rank, name in enumerate(schedule)}
    unit_rank = [position[op.name] for op in graph.ops]
    names = [tensor.name.decode() if isinstance(tensor.name, bytes) else str(tensor.name)
             for tensor in subgraph.tensors]

    producer = {int(t): index for index, op in enumerate(operators) for t in op.outputs}
    consumers: dict[int, list[int]] = {index: [] for index in range(len(operators))}
    pending = [0] * len(operators)
    for index, op in enumerate(operators):
        sources = {producer[int(t)] for t in op.inputs if int(t) in producer}
        pending[index] = len(sources)
        for source in sources:
            consumers[source].append(index)

    ranks: dict[int, float] = {}

    def rank(index: int) -> float:
        if index not in ranks:
            units = [int(u) for t in operators[index].outputs for u in _UNIT.findall(names[int(t)])]
            if units:
                ranks[index] = max(unit_rank[u] for u in units)
            else:  # a helper op: right after the latest op it reads from
                inputs = [producer[int(t)] for t in operators[index].inputs if int(t) in producer]
                ranks[index] = max((rank(i) for i in inputs), default=-1.0)
        return ranks[index]

    ready = [(rank(i), i) for i in range(len(operators)) if pending[i] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, index = heapq.heappop(ready)
        order.append(index)
        for consumer in consumers[index]:
            pending[consumer] -= 1
            if pending[consumer] == 0:
                heapq.heappush(ready, (rank(consumer), consumer))
    assert len(order) == len(operators), "the TFLite subgraph has a cycle"
    subgraph.operators = [operators[i] for i in order]
    builder = flatbuffers.Builder(len(model) + 1024)
    builder.Finish(tree.Pack(builder), file_identifier=TFLITE_IDENTIFIER)
    return bytes(builder.Output())
