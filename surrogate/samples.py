"""Training data of the surrogate: successfully trained candidates, from run stores or logs.

A sample is what the search knows *before* training (the unpruned architecture and its
sparsity target) together with what training revealed (the validation error). Candidates
whose training failed carry no error and are left out.

Two sources: the SQLite run stores of searches (``runs/<name>/candidates.sqlite``), read
through :class:`munas.search.store.RunStore`, and JSON Lines logs (one evaluated candidate
per line, the fields of :class:`munas.search.candidates.EvaluatedCandidate` with the
architectures as documents, plus ``dataset``), the format of the benchmark logs and test
fixtures.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from torch_geometric.data import Data

from munas.errors import UserError
from munas.search.candidates import EvaluatedCandidate
from munas.search.run import RunDirectory, list_runs
from munas.search.store import RunStore
from munas.space.architecture import Architecture, ArchitectureError, parse_architecture
from munas.surrogate.encoding import encode


@dataclass(frozen=True)
class Sample:
    architecture: Architecture
    sparsity: float | None
    val_error: float
    dataset: str
    source: str
    """Run name or log file the sample comes from."""
    test_error: float | None = None
    """Not a training target (selection never sees it); benchmarks use it as an independent
    second measurement of the same network, to show how noisy the validation error is."""


def samples_from_candidates(candidates: Iterable[EvaluatedCandidate], dataset: str, source: str) -> list[Sample]:
    """The successfully trained candidates as samples."""
    return [Sample(c.architecture, c.sparsity, float(c.val_error), dataset, source, c.test_error)  # type: ignore[arg-type]
            for c in candidates if c.ok]


def select_runs(names: Sequence[str] | None, dataset: str | None, root: str | Path | None = None) -> list[RunDirectory]:
    """The runs named, or every run (of ``dataset`` if given) under the runs folder.

    All selected runs must be of one data set: a surrogate predicts the errors of one task.
    """
    if names:
        runs = [RunDirectory(name, root) for name in names]
        for run in runs:
            run.read_config()  # a clear error for a run that does not exist
    else:
        runs = list_runs(root)
        if dataset is not None:
            runs = [run for run in runs if run.read_config().get("dataset") == dataset]
        if not runs:
            where = RunDirectory("x", root).root
            which = f" of data set {dataset!r}" if dataset else ""
            raise UserError(f"no runs{which} in {where}; run a search first (python cli.py search"
                            f"{' --dataset ' + dataset if dataset else ''}) or point --runs-dir at the runs folder")
    datasets = sorted({str(run.read_config().get("dataset")) for run in runs})
    if dataset is not None and datasets != [dataset]:
        raise UserError(f"--dataset {dataset} does not match the runs given (data sets: {', '.join(datasets)})")
    if len(datasets) > 1:
        raise UserError(f"the runs are of several data sets ({', '.join(datasets)}); choose one with --dataset "
                        "or name runs of one data set with --run")
    return runs


def samples_from_runs(runs: Sequence[RunDirectory]) -> list[Sample]:
    samples: list[Sample] = []
    for run in runs:
        dataset = str(run.read_config().get("dataset"))
        if not run.database.is_file():
            continue  # a run that has not finished a single candidate yet
        with RunStore(run.database, readonly=True) as store:
            samples += samples_from_candidates(store.candidates(), dataset, run.name)
    return samples


def candidate_record(candidate: EvaluatedCandidate, dataset: str) -> dict:
    """One JSON Lines record of an evaluated candidate (the inverse of :func:`samples_from_jsonl`)."""
    record = {"dataset": dataset}
    for name, value in vars(candidate).items():
        if isinstance(value, Architecture):
            value = value.to_dict()
        record[name] = value
    return record


def candidate_from_record(record: dict) -> EvaluatedCandidate:
    """The evaluated candidate of a JSON Lines record (the inverse of :func:`candidate_record`)."""
    values = {k: v for k, v in record.items() if k != "dataset"}
    values["architecture"] = parse_architecture(values["architecture"])
    if values.get("pruned_architecture") is not None:
        values["pruned_architecture"] = parse_architecture(values["pruned_architecture"])
    return EvaluatedCandidate(**values)


def samples_from_jsonl(path: str | Path) -> list[Sample]:
    """Samples of a JSON Lines log; a malformed line is an error naming the file and line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise UserError(f"{path}: cannot read the candidate log ({error.__class__.__name__})") from None
    samples = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if record.get("status", "ok") != "ok":
                continue
            samples.append(Sample(parse_architecture(record["architecture"]), record.get("sparsity"),
                                  float(record["val_error"]), str(record["dataset"]), str(path),
                                  record.get("test_error")))
        except (json.JSONDecodeError, ArchitectureError, KeyError, TypeError, ValueError, AttributeError) as error:
            raise UserError(f"{path} line {number}: not an evaluated candidate ({error})") from None
    return samples


def encode_samples(samples: Sequence[Sample]) -> list[Data]:
    return [encode(s.architecture, s.sparsity) for s in samples]
