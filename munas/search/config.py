"""The configuration of one search: defaults per data set, validation, and resume rules.

The defaults (training preset, bounds, search size) are declared by each data set in its own
module under ``data/`` and read here through :func:`munas.data.search_defaults`; a user data
set (a path) has its own declared defaults, and an unknown name is an error.

On ``--resume`` the stored configuration wins: options the user does not repeat are taken
from it, and an option that would change what is being searched is an error (only the
budget, the executor and where the data lives may change).
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from munas.data import search_defaults
from munas.errors import UserError
from munas.resources import DEFAULT_PROFILE, get_accounting
from munas.search.fitness import DEFAULT_LAMBDA_FLOOR, Bounds
from munas.training.presets import TrainConfig, with_epochs

DEFAULT_DATASET = "digits"
SPARSITY_SIGMA = 0.05
RUNTIME_FIELDS = frozenset({"budget", "executor", "workers", "address", "data_dir"})
"""Fields a resumed run may change; every other field defines the search and must match."""


@dataclass(frozen=True)
class SearchConfig:
    """Everything that defines a search (saved as ``config.json`` in the run directory)."""

    run: str
    dataset: str
    bounds: Bounds
    budget: int
    population: int
    sample: int
    initial_population: int
    seed: int
    epochs: int | None
    pruning: bool
    accounting: str
    surrogate: str
    screen: int
    train_config: dict[str, Any]
    lambda_floor: float = DEFAULT_LAMBDA_FLOOR
    tournament_with_replacement: bool = False
    sparsity_sigma: float = SPARSITY_SIGMA
    surrogate_init: str | None = None
    """A saved surrogate (``train-surrogate --out``) the screener starts from."""
    executor: str = "inprocess"
    workers: int = 1
    address: str | None = None
    data_dir: str | None = None
    version: int = field(default=1)
    fidelity: str = "full"
    """``full`` (μNAS: every chosen child trains the whole schedule) or ``multi`` (a rung first,
    then promoted or stopped: :mod:`munas.search.fidelity`)."""
    proxies: bool = False
    """Compute zero-cost proxies for every proposed child (:mod:`munas.training.proxies`) for the predictor."""

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["bounds"] = self.bounds.as_dict()
        return json.loads(json.dumps(out))  # tuples -> lists, as in config.json

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SearchConfig:
        fields = dataclasses.fields(cls)
        unknown = set(values) - {f.name for f in fields}
        if unknown:
            raise UserError(f"config.json has unknown keys {sorted(unknown)}; it was written by another munas version")
        missing = sorted(f.name for f in fields if f.name not in values and f.default is dataclasses.MISSING)
        if missing:
            raise UserError(f"config.json lacks {missing}; it was not written by munas search, or was cut short")
        values = dict(values)
        if not isinstance(values["bounds"], dict):
            raise UserError(f"config.json: bounds must be an object, got {values['bounds']!r}")
        hints = typing.get_type_hints(cls)
        for name, value in values.items():
            if name != "bounds" and not _has_type(value, hints[name]):
                raise UserError(f"config.json: {name} must be {_type_name(hints[name])}, got {value!r:.60}; "
                                "the file was edited or damaged")
        for name in ("budget", "population", "sample", "initial_population", "screen", "workers"):
            if values.get(name, 1) < 1:
                raise UserError(f"config.json: {name} must be at least 1, got {values[name]}")
        values["bounds"] = _stored_bounds(values["bounds"])
        return cls(**values)

    @property
    def sparsity_range(self) -> tuple[float, float] | None:
        """(min, max) target sparsity of the DPF pruning, or None when pruning is off."""
        if not self.pruning:
            return None
        return (float(self.train_config["min_sparsity"]), float(self.train_config["max_sparsity"]))


def _has_type(value: Any, hint: Any) -> bool:
    """Whether a JSON value fits a field's annotation (``int``, ``float``, ``str``, ``bool``, ``dict``, ``X | None``).

    Booleans are not numbers here, and a float must be finite: config.json is read back by
    code that compares and divides these values.
    """
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    for option in options:
        origin = typing.get_origin(option) or option
        if option is type(None) and value is None:
            return True
        if origin is bool and isinstance(value, bool):
            return True
        if origin is int and isinstance(value, int) and not isinstance(value, bool):
            return True
        if origin is float and isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return True
        if origin in (str, dict, list) and isinstance(value, origin):
            return True
        if origin not in (bool, int, float, str, dict, list, type(None)):
            return True  # a type JSON cannot hold directly is checked where it is built
    return False


def _type_name(hint: Any) -> str:
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    return " or ".join("null" if option is type(None) else getattr(typing.get_origin(option) or option, "__name__",
                                                                   str(option)) for option in options)


def _stored_bounds(values: dict[str, Any]) -> Bounds:
    """The bounds of config.json, each null or a positive finite number (a whole one for bytes and MACs)."""
    for name in ("error", "pmu", "model_size", "macs"):
        value = values.get(name)
        hint = float if name == "error" else int
        if value is not None and (not _has_type(value, hint) or value <= 0):
            raise UserError(f"config.json: bound {name} must be null or a positive {hint.__name__}, got {value!r:.60}")
    return Bounds.from_dict(values)


@dataclass(frozen=True)
class SearchOptions:
    """What the user typed; None means "not given" (use the default or the stored value)."""

    run: str | None = None
    dataset: str | None = None
    error: float | None = None
    pmu: int | None = None
    model_size: int | None = None
    macs: int | None = None
    no_bound: frozenset[str] = frozenset()
    budget: int | None = None
    epochs: int | None = None
    pruning: bool | None = None
    seed: int | None = None
    population: int | None = None
    sample: int | None = None
    initial_population: int | None = None
    accounting: str | None = None
    surrogate: str | None = None
    screen: int | None = None
    executor: str | None = None
    workers: int | None = None
    address: str | None = None
    data_dir: str | None = None
    reference_selection: bool | None = None
    """Parent selection exactly as the μNAS reference: tournament with replacement, λ ~ U(0, 1)."""
    surrogate_init: str | None = None
    fidelity: str | None = None
    proxies: bool | None = None


def train_config_object(dataset: str, epochs: int | None) -> TrainConfig:
    """The training preset the data set declares, with the epochs override (the trainer
    rescales its LR steps and pruning window to the new length)."""
    preset = search_defaults(dataset).preset
    return preset if epochs is None else with_epochs(preset, epochs)


def training_config(dataset: str, epochs: int | None) -> dict[str, Any]:
    """:func:`train_config_object` as the JSON dict stored in config.json."""
    return json.loads(json.dumps(dataclasses.asdict(train_config_object(dataset, epochs))))


def _positive(name: str, value: int) -> None:
    if value < 1:
        raise UserError(f"--{name} must be at least 1, got {value}")


def check_executor(name: str, workers: int) -> None:
    """Fail before anything is written if the executor cannot be created as asked."""
    from munas.search.executors import EXECUTORS

    EXECUTORS.get(name)
    _positive("workers", workers)
    if name == "inprocess" and workers > 1:
        raise UserError("--executor inprocess trains one candidate at a time; use --executor process for --workers > 1")


def _bounds(options: SearchOptions, base: Bounds) -> Bounds:
    given = {"error": options.error, "pmu": options.pmu, "model_size": options.model_size, "macs": options.macs}
    values = base.as_dict()
    for key, value in given.items():
        if value is not None:
            values[key] = value
        if key in options.no_bound:
            values[key] = None
    bounds = Bounds.from_dict(values)
    if not bounds.active:
        raise UserError("every bound is none; keep at least one of --error/--pmu/--size/--macs so the search has "
                        "an objective")
    return bounds


def new_config(options: SearchOptions, run: str) -> SearchConfig:
    """Resolve a fresh search's configuration from the options and the per-data-set defaults."""
    dataset = options.dataset or DEFAULT_DATASET
    pruning = True if options.pruning is None else options.pruning
    defaults = search_defaults(dataset)
    size = defaults.size
    budget = options.budget if options.budget is not None else size.budget
    population = options.population if options.population is not None else size.population
    sample = options.sample if options.sample is not None else min(size.sample, population)
    initial = options.initial_population if options.initial_population is not None else population
    for name, value in (("budget", budget), ("population", population), ("sample", sample),
                        ("initial-population", initial)):
        _positive(name, value)
    if sample > population:
        raise UserError(f"--sample ({sample}) cannot exceed --population ({population}); the tournament draws "
                        "distinct members")
    epochs = options.epochs if options.epochs is not None else size.epochs
    if epochs is not None:
        _positive("epochs", epochs)
    accounting = options.accounting or DEFAULT_PROFILE
    get_accounting(accounting)
    surrogate = options.surrogate or "none"
    screen = options.screen if options.screen is not None else (1 if surrogate == "none" else 8)
    _positive("screen", screen)
    if surrogate == "none" and screen > 1:
        from munas.search.predictors import PREDICTORS

        raise UserError("--screen K > 1 needs a surrogate to choose among the K children; add --surrogate with a "
                        f"predictor ({', '.join(PREDICTORS.names())})")
    if surrogate == "none" and options.surrogate_init:
        raise UserError("--surrogate-init needs a predictor to load it into; add --surrogate gnn (the predictor "
                        "train-surrogate saves)")
    if options.surrogate_init and not Path(options.surrogate_init).is_file():
        raise UserError(f"--surrogate-init {options.surrogate_init}: no such file (save one with "
                        "python cli.py train-surrogate --out FILE)")
    executor = options.executor or "inprocess"
    workers = options.workers if options.workers is not None else 1
    check_executor(executor, workers)
    reference = bool(options.reference_selection)
    fidelity = options.fidelity or "full"
    train_config = training_config(dataset, epochs)
    check_fidelity(fidelity, train_config["epochs"])
    return SearchConfig(
        fidelity=fidelity, proxies=surrogate != "none" if options.proxies is None else options.proxies,
        lambda_floor=0.0 if reference else DEFAULT_LAMBDA_FLOOR, tournament_with_replacement=reference,
        surrogate_init=None if options.surrogate_init is None else str(Path(options.surrogate_init).resolve()),
        run=run, dataset=dataset, bounds=_bounds(options, defaults.bounds_for(pruning)), budget=budget,
        population=population, sample=sample, initial_population=initial, seed=options.seed or 0,
        epochs=epochs, pruning=pruning, accounting=accounting, surrogate=surrogate, screen=screen,
        train_config=train_config, executor=executor, workers=workers,
        address=options.address, data_dir=options.data_dir,
    )


def check_fidelity(fidelity: str, epochs: int) -> None:
    """``--fidelity`` must name a known mode; ``multi`` needs room for a rung and its continuation."""
    from munas.search.fidelity import FIDELITIES, rung_epochs

    if fidelity not in FIDELITIES:
        raise UserError(f"unknown --fidelity {fidelity!r}; choose one of {', '.join(FIDELITIES)}")
    if fidelity == "multi":
        rung_epochs(epochs)


_OPTION_NAMES = {"model_size": "size", "initial_population": "initial-population"}


def resumed_config(stored: SearchConfig, options: SearchOptions) -> SearchConfig:
    """The stored configuration with the runtime options the user changed.

    An option that changes the search itself is an error, so a resumed run never mixes two
    searches in one history.
    """
    changes: dict[str, Any] = {}
    if options.surrogate_init is not None and str(Path(options.surrogate_init).resolve()) != stored.surrogate_init:
        raise UserError(f"run {stored.run!r} was started with --surrogate-init {stored.surrogate_init}; resume it "
                        "without that option, or start a new --run")
    for name in ("dataset", "budget", "epochs", "pruning", "seed", "population", "sample", "initial_population",
                 "accounting", "surrogate", "screen", "executor", "workers", "address", "data_dir", "fidelity",
                 "proxies"):
        value = getattr(options, name)
        if value is None or value == getattr(stored, name):
            continue
        if name not in RUNTIME_FIELDS:
            raise UserError(f"run {stored.run!r} was started with --{_OPTION_NAMES.get(name, name)} "
                            f"{getattr(stored, name)}; resume it without that option (or with the same value), "
                            "or start a new --run")
        changes[name] = value
    if options.reference_selection is not None and options.reference_selection != stored.tournament_with_replacement:
        raise UserError(f"run {stored.run!r} was started {'with' if stored.tournament_with_replacement else 'without'} "
                        "--reference-selection; resume it without changing that, or start a new --run")
    stored_bounds = stored.bounds.as_dict()
    requested = _bounds(options, stored.bounds).as_dict()
    for key, value in requested.items():
        if value != stored_bounds[key]:
            raise UserError(f"run {stored.run!r} was started with the bound {_OPTION_NAMES.get(key, key)} = "
                            f"{stored_bounds[key]}; resume it without changing bounds, or start a new --run")
    current = training_config(stored.dataset, stored.epochs)
    if current != stored.train_config:
        raise UserError(f"the training preset of {stored.dataset!r} changed since run {stored.run!r} was started; "
                        "start a new --run (resuming would mix two training procedures)")
    if "budget" in changes:
        _positive("budget", changes["budget"])
    check_executor(changes.get("executor", stored.executor), changes.get("workers", stored.workers))
    return dataclasses.replace(stored, **changes)
