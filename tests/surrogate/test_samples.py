import json

import pytest

from munas.errors import UserError
from munas.search.config import SearchOptions, new_config
from munas.search.results import load_results
from munas.search.run import RunDirectory
from munas.search.store import RunStore
from munas.surrogate.samples import candidate_from_record, candidate_record, samples_from_jsonl, samples_from_results

from .conftest import FIXTURE


def _records():
    return [json.loads(line) for line in FIXTURE.read_text().splitlines()]


def test_records_round_trip_through_evaluated_candidates():
    for record in _records()[:20]:  # logs written before a field existed read it at its default
        again = candidate_record(candidate_from_record(record), record["dataset"])
        assert {key: again[key] for key in record} == record
        assert candidate_record(candidate_from_record(again), record["dataset"]) == again


def test_run_store_and_log_give_the_same_samples_and_skip_failures(tmp_path):
    records = _records()[:12]
    failed = dict(records[0], id=999, status="nan_loss", val_error=None, test_error=None)
    run = RunDirectory("digits-run", tmp_path)
    run.write_config(new_config(SearchOptions(dataset="digits"), run.name).to_dict())
    with RunStore(run.database) as store:
        for record in records + [failed]:
            store.add(candidate_from_record(record), {"next_id": 1})
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in records + [failed]))
    from_store = samples_from_results(load_results([run]))
    from_log = samples_from_jsonl(log)
    assert len(from_store) == len(from_log) == 12
    assert [(s.architecture, s.sparsity, s.val_error) for s in from_store] == \
        [(s.architecture, s.sparsity, s.val_error) for s in from_log]
    assert {s.dataset for s in from_store} == {"digits"}


def test_a_malformed_log_line_names_file_and_line(tmp_path):
    log = tmp_path / "bad.jsonl"
    log.write_text(FIXTURE.read_text().splitlines()[0] + "\n{\"dataset\": \"digits\"}\n")
    with pytest.raises(UserError, match=r"bad\.jsonl line 2"):
        samples_from_jsonl(log)
