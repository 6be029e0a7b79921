import matplotlib.pyplot as plt
import numpy as np
import pytest

from munas.commands.plots import draw_fronts, front_label, plot_fronts
from munas.commands.units import format_bytes
from munas.search.fitness import Bounds

from ..search.factories import evaluated

BOUNDS = Bounds(0.1, 1000, 1000, None)
# Candidate 2 is on the 4-objective front only by its MACs: in the PMU and size panels
# candidate 1 beats it (lower error, lower resource), so no 2-D front would mark it.
RUNS = {"a": [evaluated(0, (0.05, 500, 500, 500)), evaluated(1, (0.02, 400, 100, 900)),
              evaluated(2, (0.03, 600, 600, 50)), evaluated(3, (0.06, 700, 700, 600))],
        "b": [evaluated(4, (0.04, 300, 300, 300)), evaluated(5, status="failed")]}
FRONT = [("a", RUNS["a"][1]), ("a", RUNS["a"][2]), ("b", RUNS["b"][0])]


@pytest.fixture
def figure():
    figure = draw_fronts(RUNS, BOUNDS, FRONT, title="t")
    yield figure
    plt.close(figure)


def _points(axis, label):
    collection = next(c for c in axis.collections if c.get_label() == label)
    return sorted(map(tuple, np.asarray(collection.get_offsets()).tolist()))


def test_every_panel_marks_exactly_the_front_the_table_lists(figure):
    for panel, axis in enumerate(figure.axes):
        marked = sorted(tuple(point) for collection in axis.collections if collection.get_zorder() == 3
                        for point in np.asarray(collection.get_offsets()).tolist())
        assert marked == sorted((float(c.objectives[panel + 1]), float(c.val_error)) for _, c in FRONT)
    assert _points(figure.axes[0], front_label("a", 2)) == [(400.0, 0.02), (600.0, 0.03)]
    assert _points(figure.axes[0], front_label("b", 1)) == [(300.0, 0.04)]
    assert len(_points(figure.axes[0], "a: all trained (4)")) == 4


def test_bound_lines_are_labelled_with_their_values(figure):
    for axis, name in zip(figure.axes, ("PMU", "size")):
        lines = {line.get_label(): line for line in axis.lines}
        assert list(lines[f"{name} bound {format_bytes(1000)}"].get_xdata()) == [1000, 1000]
        assert list(lines["error bound 0.1"].get_ydata()) == [0.1, 0.1]
        assert axis.get_legend() is not None
    assert [line.get_label() for line in figure.axes[2].lines] == ["error bound 0.1"]  # MACs has no bound


def test_plot_is_written(tmp_path):
    path = tmp_path / "front.png"
    plot_fronts(RUNS, BOUNDS, FRONT, str(path), title="t")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
