"""The search loop with the real trainer on real digits, through the library API."""

from __future__ import annotations

import pytest

from munas.registry import Registry
from munas.resources import compute_resources
from munas.search import screening
from munas.search.config import SearchOptions
from munas.search.loop import run_search
from munas.search.screening import Screener
from munas.search.store import RunStore

TINY = dict(dataset="digits", epochs=1, population=2, sample=2, initial_population=2, seed=1)


def check_lineage(candidates, accounting="tflm"):
    ids = {c.id for c in candidates}
    assert len(ids) == len(candidates)
    for c in candidates:
        assert c.parent_id is None or c.parent_id in ids
        if c.ok:
            assert 0 <= c.val_error <= 1 and c.pmu > 0 and c.model_size > 0 and c.macs > 0
            assert c.pruned_architecture is not None and 0.0 <= c.sparsity <= 1.0
            resources = compute_resources(c.pruned_architecture, accounting)
            assert (c.pmu, c.model_size, c.macs) == (resources.pmu, resources.model_size, resources.macs)


def test_process_pool_trains_in_parallel_to_the_budget(tmp_path):
    result = run_search(SearchOptions(run="pool", budget=5, executor="process", workers=2, **TINY),
                        runs_root=tmp_path)
    assert result.interrupted_by is None
    with RunStore(result.run.database, readonly=True) as store:
        stored = store.candidates()
    assert len(stored) == 5 and sorted(c.id for c in stored) == list(range(5))
    check_lineage(stored)
    assert any(c.parent_id is not None for c in stored)


def test_munas_accounting_measures_the_pruned_network_with_the_paper_profile(tmp_path):
    result = run_search(SearchOptions(run="paper", budget=2, accounting="munas", **TINY), runs_root=tmp_path)
    assert any(c.ok for c in result.candidates)
    check_lineage(result.candidates, "munas")


class RecordingScreener(Screener):
    """Deterministic test double that picks the last child and records what it saw."""

    def __init__(self, children_per_step: int = 1, seed: int = 0) -> None:
        super().__init__(children_per_step, seed)
        self.observed: list[int] = []
        self.offers: list[int] = []

    def choose(self, children, fitness):
        self.offers.append(len(children))
        for number, child in enumerate(children):
            child.predicted_error = 0.1 * number
            child.predicted_error_std = 0.01
        return len(children) - 1

    def observe(self, evaluated):
        self.observed.extend(c.id for c in evaluated)


def test_screener_sees_k_children_and_its_prediction_is_stored(tmp_path, monkeypatch):
    monkeypatch.setattr(screening, "SCREENERS", Registry("screener"))
    made: list[RecordingScreener] = []
    screening.SCREENERS.register("recording")(lambda **kwargs: made.append(RecordingScreener(**kwargs)) or made[-1])
    result = run_search(SearchOptions(run="screened", budget=4, surrogate="recording", screen=3, **TINY),
                        runs_root=tmp_path)
    screener = made[0]
    assert screener.offers == [3, 3] and screener.observed == [0, 1, 2, 3]
    with RunStore(result.run.database, readonly=True) as store:
        stored = {c.id: c for c in store.candidates()}
    assert [stored[i].predicted_error for i in range(4)] == [None, None, pytest.approx(0.2), pytest.approx(0.2)]
    assert stored[2].predicted_error_std == pytest.approx(0.01)


def test_resume_hands_the_whole_history_to_a_new_screener(tmp_path, monkeypatch):
    monkeypatch.setattr(screening, "SCREENERS", Registry("screener"))
    made: list[RecordingScreener] = []
    screening.SCREENERS.register("recording")(lambda **kwargs: made.append(RecordingScreener(**kwargs)) or made[-1])
    run_search(SearchOptions(run="again", budget=2, surrogate="recording", **TINY), runs_root=tmp_path)
    run_search(SearchOptions(run="again", budget=3), resume=True, runs_root=tmp_path)
    assert made[1].observed == [0, 1, 2]


@pytest.mark.slow
def test_ray_executor_runs_real_trainings(tmp_path):
    pytest.importorskip("ray")
    result = run_search(SearchOptions(run="ray", budget=3, executor="ray", workers=2, **TINY), runs_root=tmp_path)
    assert len(result.candidates) == 3
    check_lineage(result.candidates)


def test_running_statistics_match_a_recomputation_from_scratch():
    import numpy as np

    from munas.search.config import SearchConfig
    from munas.search.fitness import Bounds
    from munas.search.loop import SearchStats
    from munas.search.pareto import hypervolume

    from .factories import evaluated

    bounds = Bounds(0.2, 1000, 1000, 1000)
    config = SearchConfig(run="r", dataset="digits", bounds=bounds, budget=60, population=5, sample=2,
                          initial_population=5, seed=0, epochs=1, pruning=False, accounting="tflm",
                          surrogate="none", screen=1, train_config={})
    rng = np.random.default_rng(4)
    stats, seen = SearchStats(budget=60), []
    for i in range(60):
        status = "failed" if i % 11 == 5 else "ok"
        seen.append(evaluated(i, (rng.uniform(0, 0.3), *rng.integers(1, 1300, size=3)), status=status))
        stats.add(seen[-1], config)
        feasible = [c for c in seen if c.ok and bounds.within(c.objectives)]
        assert stats.feasible == len(feasible) and stats.failed == sum(not c.ok for c in seen)
        assert stats.hypervolume == pytest.approx(hypervolume(seen, bounds), abs=1e-12)
        assert stats.best == (min(feasible, key=lambda c: c.val_error) if feasible else None)
    assert stats.hypervolume > 0


def test_a_worker_that_dies_stops_the_search_with_a_clear_error_instead_of_hanging():
    import multiprocessing
    import os
    import signal
    import threading

    import numpy as np

    from munas.data import search_defaults
    from munas.search.evaluation import EvaluationJob
    from munas.search.executors import ProcessExecutor, WorkerLost
    from munas.space.sampling import random_architecture
    from munas.training.presets import with_epochs

    architecture = random_architecture((8, 8, 1), 10, np.random.default_rng(0))
    long_training = with_epochs(search_defaults("digits").preset, 500)
    executor = ProcessExecutor(workers=1)
    try:
        executor.submit(EvaluationJob(7, architecture, None, "digits", None, long_training, 0, "tflm"))
        workers = multiprocessing.active_children()
        assert workers
        for worker in workers:  # what the OOM killer does
            os.kill(worker.pid, signal.SIGKILL)
        raised: list[BaseException] = []

        def wait() -> None:
            try:
                executor.wait()
            except BaseException as error:
                raised.append(error)

        waiter = threading.Thread(target=wait, daemon=True)  # a daemon: a regression fails, never hangs
        waiter.start()
        waiter.join(timeout=120)
        assert not waiter.is_alive(), "the executor is still waiting for a dead worker"
        assert len(raised) == 1 and isinstance(raised[0], WorkerLost)
        assert "candidate(s) 7;" in str(raised[0]) and "--resume" in str(raised[0])
    finally:
        executor.close()


class InterruptAfter:
    """A reporter that sends this process SIGINT once ``count`` candidates are stored, as Ctrl-C would."""

    def __init__(self, count: int) -> None:
        self.count = count

    def start(self, config, stats) -> None:
        pass

    def update(self, evaluated, stats) -> None:
        if stats.done == self.count:
            import os
            import signal

            os.kill(os.getpid(), signal.SIGINT)

    def stop(self) -> None:
        pass


@pytest.mark.slow
def test_a_resumed_gnn_search_reproduces_the_uninterrupted_one(tmp_path, monkeypatch):
    """The surrogate first fits at 10 results: stopped at 11, the resumed run must rebuild the
    predictor (the fit at 10 with the same RNG stream) to screen candidates 11..13 as the
    uninterrupted run did. A smaller ensemble (2 members, fewer epochs) keeps the test cheap;
    the fit schedule and the RNG stream are the search's own."""
    from functools import partial

    from munas.surrogate import predictor
    from munas.surrogate.training import TrainingConfig

    monkeypatch.setattr(predictor, "TrainingConfig", partial(TrainingConfig, members=2, epochs=30, warm_epochs=10))
    options = dict(TINY, population=4, initial_population=4, budget=14, surrogate="gnn", screen=4)
    straight = run_search(SearchOptions(run="straight", **options), runs_root=tmp_path).candidates
    stopped = run_search(SearchOptions(run="stopped", **options), reporter=InterruptAfter(11), runs_root=tmp_path)
    assert stopped.interrupted_by is not None and len(stopped.candidates) == 11
    resumed = run_search(SearchOptions(run="stopped"), resume=True, runs_root=tmp_path).candidates

    def genotype(candidates):
        return [(c.id, c.parent_id, c.architecture, c.sparsity, c.val_error, c.predicted_error) for c in candidates]

    assert sum(c.predicted_error is not None for c in straight) >= 3  # the surrogate did screen
    assert genotype(resumed) == genotype(straight)


def test_a_multi_fidelity_search_resumed_after_a_promotion_continues_the_rung(tmp_path, monkeypatch):
    """Interrupted right after a promoted rung is stored (its continuation in flight), the resumed
    run continues that rung from its stored state, never retraining it, and ends as the
    uninterrupted run. Promotion may stop children from 2 finished candidates on (cheap)."""
    import os
    import signal
    from functools import partial

    from munas.search import fidelity, loop

    monkeypatch.setattr(loop, "Promotion", partial(fidelity.Promotion, min_finished=2))
    options = dict(TINY, epochs=2, budget=6, fidelity="multi")
    straight = run_search(SearchOptions(run="straight", **options), runs_root=tmp_path).candidates
    promoted: list = []
    original = RunStore.add_promoted_rung

    def add_then_interrupt(store, rung, state):
        original(store, rung, state)
        if rung.id >= 3 and not promoted:
            promoted.append(rung)
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(RunStore, "add_promoted_rung", add_then_interrupt)
    stopped = run_search(SearchOptions(run="stopped", **options), runs_root=tmp_path)
    monkeypatch.setattr(RunStore, "add_promoted_rung", original)
    assert stopped.interrupted_by is not None and promoted
    resumed = run_search(SearchOptions(run="stopped"), resume=True, runs_root=tmp_path).candidates

    def genotype(candidates):
        return [(c.id, c.parent_id, c.architecture, c.sparsity, c.status, c.val_error, c.curve) for c in candidates]

    assert genotype(resumed) == genotype(straight)
    continued = next(c for c in resumed if c.id == promoted[0].id)
    assert continued.rung_seconds == promoted[0].rung_seconds and continued.train_seconds > continued.rung_seconds
    assert all(c.status in ("ok", "stopped") and len(c.curve) == (2 if c.ok else 1) for c in resumed)
    assert all(c.proxies is None for c in resumed)  # no predictor, no proxies
    with RunStore(tmp_path / "stopped" / "candidates.sqlite") as store:
        assert store.promoted_rungs() == []
