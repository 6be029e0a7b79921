"""Channel groups and the shape pruning leaves: arithmetic on the operator graph, no training
(real trainings that end with this shape are checked in tests/munas/training/test_pruning.py)."""

from __future__ import annotations

import subprocess
import sys

from munas.resources import TRAINED, build_graph
from munas.resources.channels import channel_groups, pruned_shape, surviving_channels
from munas.space.architecture import parse_architecture

from ..documents import BRANCHY, layer


def _groups_by_producers(architecture):
    plan = channel_groups(build_graph(architecture, TRAINED))
    return plan, {tuple(g.producers): g for g in plan.groups if g.producers}


def test_channel_groups_tie_add_operands_and_exclude_first_conv_and_logits():
    plan, groups = _groups_by_producers(BRANCHY)
    # the trunk conv and the branch's match conv are summed: one group, pruned together
    trunk = groups[("block1/layer0/conv", "block2/match/conv")]
    assert trunk.prunable and trunk.channels == 12 and trunk.followers == ["block1/layer1/dwconv"]
    branch = groups[("block2/layer0/conv",)]
    assert branch.prunable and branch.channels == 6 and branch.followers == ["block2/layer1/dwconv"]
    assert groups[("block3/layer0/conv",)].prunable and groups[("dense0",)].prunable
    # the first conv reads the input through its pre-pool: still excluded (spec §8.11)
    assert not groups[("block0/layer0/conv",)].prunable
    assert not groups[("logits",)].prunable
    assert plan.prunable_channels == 12 + 6 + 10 + 20


def test_a_branch_from_a_depthwise_first_block_joins_the_input_group():
    """A group that contains the network input is never pruned."""
    arch = parse_architecture({"input_shape": [10, 10, 2], "num_classes": 3, "architecture": {
        "conv_blocks": [{"is_branch": False, "layers": [layer("DWConv2D")]},
                        {"is_branch": True, "layers": [layer("Conv2D", filters=5)]}],
        "dense_blocks": [{"units": 10}]}})
    plan, groups = _groups_by_producers(arch)
    assert not groups[("block1/layer0/conv",)].prunable
    assert plan.prunable_channels == 10


def test_every_pruned_group_loses_the_same_fraction_and_keeps_one_channel():
    plan, _ = _groups_by_producers(BRANCHY)
    by_size = {plan.groups[i].channels: n for i, n in surviving_channels(plan, 0.5).items()}
    assert by_size == {12: 6, 6: 3, 10: 5, 20: 10}
    assert set(surviving_channels(plan, 0.99).values()) == {1}
    assert surviving_channels(plan, 0.0) == {i: g.channels for i, g in enumerate(plan.groups) if g.prunable}


def test_pruned_shape_cuts_the_layers_that_produce_each_group():
    pruned = pruned_shape(BRANCHY, 0.5)
    filters = [[conv.filters for conv in block.layers] for block in pruned.conv_blocks]
    # the first conv is excluded; depthwise convs have no filters of their own; the branch's
    # match conv is not in the document (assembly adds it with the trunk's count)
    assert filters == [[8], [6, None], [3, None], [5]]
    assert [d.units for d in pruned.dense_blocks] == [10]
    assert pruned_shape(BRANCHY, None) == pruned_shape(BRANCHY, 0.0) == BRANCHY


def test_the_proposal_path_does_not_import_torch():
    """The search computes every child's pruned resources; that must not cost a torch import."""
    code = ("import sys, munas.resources.channels, munas.search.aging_evolution; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torch_geometric')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
