"""The report page: what each plotly figure holds, and the HTML around it (offline, escaped, live)."""

from __future__ import annotations

import re

import pytest

from munas.report import data, page

from .browser import load, needs_chromium
from .runs import candidates, config, results


def traces(figure, name_start: str) -> list:
    return [t for t in figure.data if t.name and t.name.startswith(name_start)]


def test_the_front_figure_marks_the_front_in_each_panel_and_draws_every_bound():
    figure = page.front_figure(candidates(), config().bounds)
    front, trained = traces(figure, "Pareto front"), traces(figure, "trained")
    assert len(front) == len(trained) == 3  # one per resource panel
    assert [list(t.y) for t in front] == [[0.20]] * 3
    assert list(front[0].x) == [800] and list(front[1].x) == [900] and list(front[2].x) == [1000]
    assert sorted(trained[0].y) == [0.10, 0.25, 0.30, 0.45]
    vertical = [s.x0 for s in figure.layout.shapes if s.x0 == s.x1]
    horizontal = [s.y0 for s in figure.layout.shapes if s.y0 == s.y1]
    assert vertical == [2000, 2000, 2000] and horizontal == [0.5, 0.5, 0.5]
    labels = [a.text for a in figure.layout.annotations]
    assert {"PMU ≤ 2.0 KB", "size ≤ 2.0 KB", "MACs ≤ 2.0K", "error ≤ 0.5"} <= set(labels)


def test_the_hypervolume_figure_plots_the_series_against_count_and_seconds():
    series = data.progress(candidates(), config())
    count, seconds = page.hypervolume_figure(series).data
    assert list(count.x) == series.finished and list(seconds.x) == pytest.approx(series.train_seconds)
    assert list(count.y) == list(seconds.y) == series.hypervolume


def test_the_spread_figure_colours_by_status_and_places_the_ones_without_an_error():
    figure = page.spread_figure(candidates(), config().bounds)
    ok = traces(figure, "ok")
    assert len(ok) == 4 and list(ok[0].x) == [0, 1, 3, 5, 6] and list(ok[1].y) == [1000, 5000, 800, 900, 1500]
    (failed,), (stopped,) = traces(figure, "failed"), traces(figure, "stopped")
    assert (list(failed.x), list(failed.y)) == ([2], [1.0])
    assert (list(stopped.x), list(stopped.y)) == ([4], [0.4])  # its rung's estimate
    assert "&lt;script&gt;" in failed.hovertext[0]


def test_the_prediction_figure_holds_predicted_against_measured_with_the_spread():
    figure = page.prediction_figure(candidates())
    points = figure.data[0]
    assert list(points.x) == [0.25, 0.22, 0.35] and list(points.y) == [0.20, 0.25, 0.45]
    assert list(points.error_x.array) == [0.02, 0.0, 0.05]


def test_the_page_is_self_contained_and_escapes_what_it_quotes(tmp_path):
    html = page.build_page(results(tmp_path))
    assert html.count("<script") == 2 + 4  # plotly.js, the sort snippet, one per chart (front, HV, spread, surrogate)
    assert not re.search(r"<(script|link)[^>]+(src|href)=", html)  # nothing loaded from elsewhere
    assert "<script>alert(1)" not in html and "worker died: &lt;script&gt;" in html
    assert "http-equiv" not in html and "Stopped after 7 of 8 candidates" in html
    assert "Kendall τ" in html
    for status in ("ok", "failed", "stopped"):
        assert f'<tr class="{status}">' in html


def test_a_running_search_page_reloads_itself_and_a_snapshot_says_it_does_not(tmp_path):
    live = page.build_page(results(tmp_path), running=True, live=True)
    assert f'<meta http-equiv="refresh" content="{page.REFRESH_SECONDS}">' in live and "is <b>running</b>" in live
    snapshot = page.build_page(results(tmp_path), running=True)
    assert "http-equiv" not in snapshot and "Snapshot of a <b>running</b> search" in snapshot


def test_a_run_without_candidates_or_predictions_says_so(tmp_path):
    empty = results(tmp_path)
    empty.candidates.clear()
    html = page.build_page(empty, running=True, live=True)
    assert "no front" in html and "No predictions" in html and html.count("<script") == 2


@needs_chromium
def test_clicking_a_header_sorts_the_table_in_chromium(tmp_path):
    """The sort snippet, run by a real browser: numbers as numbers, text as text, "-" last both ways."""
    column = {name: index for index, name in enumerate(data.TABLE_COLUMNS)}

    def order_after(*clicks: str) -> list[str]:
        script = "".join(f'document.querySelectorAll("table.sortable th")[{column[name]}].click();' for name in clicks)
        path = tmp_path / "sorted.html"
        path.write_text(page.build_page(results(tmp_path)).replace("</body>", f"<script>{script}</script></body>"))
        dom, console = load(path, tmp_path)
        assert not console
        body = dom[dom.index("<tbody>"):dom.index("</tbody>")]
        return re.findall(r'<tr class="[a-z_]+"><td data-sort="(\d+)">', body)

    assert order_after("val err") == ["1", "3", "5", "0", "6", "2", "4"]  # failed #2, stopped #4 have none
    assert order_after("val err", "val err") == ["6", "0", "5", "3", "1", "2", "4"]
    assert order_after("status") == ["2", "0", "1", "3", "5", "6", "4"]  # failed < ok < stopped, ties kept in order
