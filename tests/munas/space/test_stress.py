import numpy as np

from munas.data import list_datasets
from munas.data.registry import get_source
from munas.space.stress import branchy_architecture, builtin_tasks


def test_tasks_are_the_shapes_every_data_set_declares_each_once():
    declared = {(get_source(name).input_shape, get_source(name).num_classes) for name in list_datasets()}
    tasks = builtin_tasks()
    assert set(tasks) == declared and len(tasks) == len(declared)
    assert ((28, 28, 1), 10) in tasks and ((98, 40, 1), 12) in tasks and ((48, 48, 3), 62) in tasks


def test_branchy_networks_have_the_task_shape_and_parallel_branches():
    rng = np.random.default_rng(0)
    for shape, classes in builtin_tasks():
        network = branchy_architecture(shape, classes, rng)
        assert tuple(network.input_shape) == shape and network.num_classes == classes
        assert sum(block.is_branch for block in network.conv_blocks) >= 5
