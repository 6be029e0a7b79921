import numpy as np

from munas.commands.plots import front_2d, plot_fronts
from munas.search.fitness import Bounds

from ..search.factories import evaluated


def test_front_2d_is_sorted_by_resource():
    x = np.array([3.0, 1.0, 2.0, 2.5])
    y = np.array([0.1, 0.5, 0.2, 0.3])
    assert front_2d(x, y).tolist() == [1, 2, 0]


def test_plot_is_written(tmp_path):
    path = tmp_path / "front.png"
    plot_fronts({"a": [evaluated(0, (0.05, 500, 500, 500)), evaluated(1, (0.02, 900, 100, 50))],
                 "b": [evaluated(2, (0.03, 300, 300, 300)), evaluated(3, status="failed")]},
                Bounds(0.1, 1000, 1000, None), str(path), title="t")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
