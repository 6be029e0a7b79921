"""Training data of the surrogate: successfully trained candidates, from run stores or logs.

A sample is what the search knows *before* training (the unpruned architecture and its
sparsity target) together with what training revealed (the validation error). Candidates
whose training failed carry no error and are left out.

Two sources: the SQLite run stores of searches (``runs/<name>/candidates.sqlite``), read
through :func:`munas.search.results.load_results`, and JSON Lines logs (one evaluated candidate
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
from munas.search.results import RunResults
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


def samples_from_results(results: Iterable[RunResults]) -> list[Sample]:
    """The successfully trained candidates of every run (:func:`munas.search.results.load_results`)."""
    return [sample for result in results
            for sample in samples_from_candidates(result.candidates, result.config.dataset, result.name)]


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
