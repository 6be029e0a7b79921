"""The asynchronous search loop: propose, train on an executor, store, age (spec §4.2).

One steady-state loop serves every executor: while a worker is free and the budget allows,
propose and submit; otherwise wait for whichever training finishes, store it (one
transaction with the loop state), and let it join the population. With the in-process
executor the run is reproducible bit for bit, and a resumed run continues exactly as the
uninterrupted one would have (the RNG state and next id are stored with every candidate;
each candidate's training seed depends only on the run seed and its id).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from munas.errors import UserError
from munas.search.aging_evolution import AgingEvolution
from munas.search.candidates import Candidate, EvaluatedCandidate
from munas.search.config import SearchConfig, SearchOptions, new_config, resumed_config, train_config_object
from munas.search.evaluation import EvaluationJob, candidate_seed, load_cached_dataset, now_iso
from munas.search.executors import create_executor
from munas.search.fidelity import Promotion, proposal_from_json, proposal_to_json, rung_epochs
from munas.search.interrupts import InterruptGuard, SearchInterrupted
from munas.search.pareto import non_dominated_mask
from munas.search.run import RunDirectory, default_run_name
from munas.search.screening import create_screener
from munas.search.store import PromotedRung, RunStore


@dataclass
class SearchStats:
    """What the progress display shows; updated after every finished candidate."""

    budget: int
    done: int = 0
    feasible: int = 0
    failed: int = 0
    stopped: int = 0
    """Multi-fidelity: candidates stopped after their rung."""
    train_seconds: float = 0.0
    """Training-seconds spent on every stored candidate (rungs included): the search's cost."""
    best: EvaluatedCandidate | None = None
    hypervolume: float = 0.0
    session_done: int = 0
    session_seconds: float = 0.0
    _front: list[np.ndarray] = field(default_factory=list, repr=False)

    @property
    def seconds_per_candidate(self) -> float | None:
        return self.session_seconds / self.session_done if self.session_done else None

    @property
    def eta_seconds(self) -> float | None:
        per = self.seconds_per_candidate
        return None if per is None else per * max(0, self.budget - self.done)

    def add(self, evaluated: EvaluatedCandidate, config: SearchConfig) -> None:
        self.done += 1
        self.train_seconds += evaluated.train_seconds
        if evaluated.status == "stopped":
            self.stopped += 1
            return
        if not evaluated.ok:
            self.failed += 1
            return
        if not config.bounds.within(evaluated.objectives):
            return
        self.feasible += 1
        if self.best is None or evaluated.val_error < self.best.val_error:  # type: ignore[operator]
            self.best = evaluated
        self._update_hypervolume(evaluated, config)

    def _update_hypervolume(self, evaluated: EvaluatedCandidate, config: SearchConfig) -> None:
        """Keep only the feasible front, so the hypervolume stays cheap on long runs."""
        from munas.search.pareto import normalised_hypervolume

        points = np.array(self._front + [np.asarray(evaluated.objectives)])
        self._front = list(points[non_dominated_mask(points)])
        self.hypervolume = normalised_hypervolume(np.array(self._front), config.bounds)


def _proxy_annotator(dataset, seed: int) -> Callable[[Candidate], None]:
    """Set ``candidate.proxies`` (zero-cost proxies on one fixed training batch) on every proposal."""
    from munas.training.proxies import proxy_batch, zero_cost_proxies

    x, y = proxy_batch(dataset.x_train, dataset.y_train, seed)

    def annotate(candidate: Candidate) -> None:
        candidate.proxies = zero_cost_proxies(candidate.architecture, x, y, seed)

    return annotate


class Reporter(Protocol):
    def start(self, config: SearchConfig, stats: SearchStats) -> None: ...
    def update(self, evaluated: EvaluatedCandidate, stats: SearchStats) -> None: ...
    def stop(self) -> None: ...


@dataclass
class SearchResult:
    config: SearchConfig
    run: RunDirectory
    candidates: list[EvaluatedCandidate]
    stats: SearchStats
    interrupted_by: int | None = None
    """The signal number that stopped the search, or None when the budget was spent."""


def _log_line(evaluated: EvaluatedCandidate) -> str:
    if evaluated.status == "stopped":
        return (f"candidate {evaluated.id} (parent {evaluated.parent_id}) stopped after its rung: "
                f"estimated val_error={evaluated.estimated_error:.4f} train_seconds={evaluated.train_seconds:.2f}")
    if not evaluated.ok:
        return f"candidate {evaluated.id} (parent {evaluated.parent_id}) {evaluated.status}: {evaluated.message}"
    return (f"candidate {evaluated.id} (parent {evaluated.parent_id}) val_error={evaluated.val_error:.4f} "
            f"test_error={evaluated.test_error} int8_test_error={evaluated.int8_test_error} pmu={evaluated.pmu} "
            f"size={evaluated.model_size} macs={evaluated.macs} sparsity={evaluated.sparsity} "
            f"train_seconds={evaluated.train_seconds:.2f}")


def prepare_run(options: SearchOptions, resume: bool,
                runs_root: str | Path | None = None) -> tuple[RunDirectory, SearchConfig]:
    """Validate the options and resolve the configuration before anything is written."""
    if resume and not options.run:
        raise UserError("--resume needs --run NAME (the name printed when the search started)")
    name = options.run or default_run_name(options.dataset or "digits")
    run = RunDirectory(name, runs_root)
    if resume:
        if not run.exists():
            raise UserError(f"run {name!r} does not exist in {run.root}; drop --resume to start it")
        return run, resumed_config(SearchConfig.from_dict(run.read_config()), options)
    if run.exists():
        raise UserError(f"run {name!r} already exists in {run.root}; add --resume to continue it, "
                        "or choose another --run")
    return run, new_config(options, name)


def run_search(options: SearchOptions, resume: bool = False, reporter: Reporter | None = None,
               runs_root: str | Path | None = None) -> SearchResult:
    """Run (or resume) a search to its budget; returns early, cleanly, on SIGINT/SIGTERM."""
    run, config = prepare_run(options, resume, runs_root)
    dataset = load_cached_dataset(config.dataset, config.data_dir)
    screener = create_screener(config.surrogate, children_per_step=config.screen, seed=config.seed,
                               init=config.surrogate_init, dataset=config.dataset)
    with run, InterruptGuard() as guard:
        if not resume and run.exists():  # another process created it between our check and the lock
            raise UserError(f"run {run.name!r} already exists; add --resume to continue it")
        with guard.critical():
            run.write_config(config.to_dict())
        logger = run.logger()
        result = SearchResult(config, run, [], SearchStats(budget=config.budget))
        try:
            with RunStore(run.database) as store:
                _loop(config, result, store, screener, dataset, guard, logger, reporter)
        except SearchInterrupted as interrupt:
            result.interrupted_by = interrupt.signum
            logger.info("interrupted by %s after %d candidates", interrupt, len(result.candidates))
        except Exception:
            if not resume and not result.candidates:  # failed before its first candidate (e.g. no Ray
                run.close_logger()                    # cluster): leave no folder that blocks the name
                run.discard()
            raise
        finally:
            run.close_logger()
    return result


def _loop(config: SearchConfig, result: SearchResult, store: RunStore, screener, dataset, guard: InterruptGuard,
          logger, reporter: Reporter | None) -> None:
    from munas.space.morphisms import random_child
    from munas.space.sampling import random_architecture

    train_config = train_config_object(config.dataset, config.epochs)
    evolution = AgingEvolution(config, tuple(dataset.input_shape), dataset.num_classes, screener,
                               np.random.default_rng(config.seed), random_architecture, random_child,
                               annotate=_proxy_annotator(dataset, config.seed) if config.proxies else None)
    rung = rung_epochs(train_config.epochs) if config.fidelity == "multi" else None
    promotion = None if rung is None else Promotion(rung, train_config.epochs)
    result.candidates = evolution.history
    stats = result.stats
    history = store.candidates()
    if history:
        state = store.state()
        evolution.restore(history, state["next_id"], state["rng"])
        result.candidates = evolution.history
        screener.observe(history)
        for evaluated in history:
            stats.add(evaluated, config)
    logger.info("%s run %s: %s", "resumed" if history else "started", config.run, config.to_dict())
    executor = None
    if reporter:
        reporter.start(config, stats)
    try:
        executor = create_executor(config.executor, config.workers, config.address)
        in_flight: dict[int, tuple[Candidate, str]] = {}
        promoted: dict[int, float] = {}
        """Multi-fidelity: candidates whose continuation is in flight, with their rung's seconds."""

        def job(candidate_id: int, candidate: Candidate, resume_state: bytes | None = None) -> EvaluationJob:
            return EvaluationJob(candidate_id, candidate.architecture, candidate.sparsity, config.dataset,
                                 config.data_dir, train_config, candidate_seed(config.seed, candidate_id),
                                 config.accounting, stop_after=None if resume_state is not None else rung,
                                 resume_state=resume_state)

        for stored in store.promoted_rungs():  # promoted before the driver stopped: continue, never retrain
            candidate, submitted_at = proposal_from_json(stored.proposal, config.accounting)
            in_flight[stored.id] = (candidate, submitted_at)
            promoted[stored.id] = stored.rung_seconds
            executor.submit(job(stored.id, candidate, stored.state))
        started = time.perf_counter()
        while len(evolution.history) < config.budget:
            while executor.pending < executor.capacity and evolution.may_propose(executor.pending):
                candidate_id, candidate = evolution.propose(executor.pending)
                in_flight[candidate_id] = (candidate, now_iso())
                executor.submit(job(candidate_id, candidate))
            outcome = executor.wait()
            candidate, submitted_at = in_flight.pop(outcome.candidate_id)
            estimated_error = None
            if outcome.status == "rung":  # the promotion decision, made here in the driver
                assert promotion is not None and outcome.rung_state is not None
                decision = promotion.decide(candidate, outcome.curve, evolution.history, evolution.population)
                if decision.promote:
                    with guard.critical():
                        store.add_promoted_rung(PromotedRung(
                            outcome.candidate_id, proposal_to_json(candidate, submitted_at), outcome.curve,
                            outcome.train_seconds, outcome.rung_state), evolution.state())
                    in_flight[outcome.candidate_id] = (candidate, submitted_at)
                    promoted[outcome.candidate_id] = outcome.train_seconds
                    executor.submit(job(outcome.candidate_id, candidate, outcome.rung_state))
                    continue
                estimated_error = decision.estimated_error
                outcome = replace(outcome, status="stopped", rung_seconds=outcome.train_seconds, rung_state=None,
                                  message=f"stopped after its {rung}-epoch rung: estimated final val_error "
                                          f"{estimated_error:.4f}, dominated by a population member")
            elif outcome.candidate_id in promoted:  # a continuation: the total cost includes the rung
                rung_seconds = promoted.pop(outcome.candidate_id)
                outcome = replace(outcome, rung_seconds=rung_seconds,
                                  train_seconds=rung_seconds + outcome.train_seconds)
            evaluated = EvaluatedCandidate.from_proposal(outcome.candidate_id, candidate, submitted_at, outcome,
                                                         estimated_error=estimated_error)
            with guard.critical():  # the record, and what the display shows of it, or neither
                if evaluated.ok and outcome.weights is not None:
                    store.add_weights(evaluated.id, outcome.weights)
                store.add(evaluated, evolution.state())
                evolution.record(evaluated)
                logger.info(_log_line(evaluated))
                stats.session_done += 1
                stats.session_seconds = time.perf_counter() - started
                stats.add(evaluated, config)
                if reporter:
                    reporter.update(evaluated, stats)
            screener.observe([evaluated])
        logger.info("finished: %d candidates", len(evolution.history))
    finally:
        if executor is not None:
            executor.close()
        if reporter:
            reporter.stop()
