"""The numbers behind the report's charts and table, on a synthetic run with every status."""

from __future__ import annotations

import pytest

from munas.report import data
from munas.search.pareto import hypervolume

from .runs import candidates, config


def test_the_front_is_the_one_search_prints_within_the_bounds():
    assert [c.id for c in data.front(candidates(), config().bounds)] == [3]  # 0, 5, 6 are dominated by 3; 1 is too big


def test_without_a_fitting_candidate_the_front_is_of_all_trained_ones():
    too_big = [c for c in candidates() if c.id == 1]
    assert [c.id for c in data.front(too_big, config().bounds)] == [1]


def test_progress_replays_the_search_statistics_in_completion_order():
    stored, bounds = candidates(), config().bounds
    series = data.progress(stored, config())
    assert series.finished == list(range(1, len(stored) + 1))
    assert series.train_seconds == pytest.approx([1.5 * n for n in series.finished])  # failed and stopped cost too
    assert series.hypervolume == pytest.approx([hypervolume(stored[:n], bounds) for n in series.finished])
    first, after_3 = series.hypervolume[0], series.hypervolume[3]
    assert 0 < first == series.hypervolume[2] < after_3 == series.hypervolume[-1]  # only #3 improves the front


def test_candidates_are_grouped_by_status_in_a_fixed_order():
    groups = data.by_status(candidates())
    assert list(groups) == ["ok", "failed", "stopped"]
    assert [c.id for c in groups["ok"]] == [0, 1, 3, 5, 6]


def test_only_trained_candidates_with_a_prediction_are_screened():
    assert [c.id for c in data.screened(candidates())] == [3, 5, 6]


def test_table_rows_show_every_candidate_with_sort_keys():
    rows = data.table_rows(candidates(), config().bounds, front_ids={3})
    assert len(rows) == len(candidates()) and all(len(row) == len(data.TABLE_COLUMNS) for row in rows)
    column = {name: index for index, name in enumerate(data.TABLE_COLUMNS)}
    by_id = {row[0].key: row for row in rows}
    assert [row[0].key for row in rows] == sorted(by_id)
    three = by_id[3]
    assert three[column["status"]].text == "ok" and three[column["val err"]].key == 0.20
    assert three[column["PMU"]].text == "800 B" and three[column["PMU"]].key == 800
    assert three[column["predicted"]].text == "0.2500 ± 0.0200"
    assert (three[column["fits"]].text, three[column["front"]].text) == ("yes", "yes")
    assert by_id[5][column["predicted"]].text == "0.2200"  # no spread stored
    assert by_id[1][column["fits"]].text == "no"
    failed = by_id[2]
    assert failed[column["val err"]].text == "-" and failed[column["val err"]].key is None
    assert failed[column["message"]].text.startswith("worker died")
