"""Executors run evaluation jobs asynchronously: submit, then wait for whichever finishes.

The loop needs only :meth:`Executor.submit`, :meth:`Executor.wait` and ``capacity`` (how
many trainings may be in flight), so μNAS's asynchronous steady state works the same on one
core, a local process pool, or a Ray cluster. Registry as for data sets and screeners:
``@register_executor("name")`` and :func:`create_executor`.

* ``inprocess`` (default): one training at a time in this process; fully reproducible.
* ``process``: a local pool of ``--workers`` spawned processes, each with an equal share of
  the CPU threads (torch runs tiny networks faster on few threads than on contended ones).
* ``ray``: one task per candidate on a Ray cluster (``--address auto`` or ``HOST:PORT``;
  none starts a local one), one GPU per task when the cluster has GPUs.
"""

from __future__ import annotations

import os
import signal
import socket
from abc import ABC, abstractmethod
from collections.abc import Callable, Sized
from concurrent import futures
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from munas.errors import UserError
from munas.registry import Registry
from munas.search.evaluation import EvaluationJob, EvaluationOutcome, evaluate


class Executor(ABC):
    """Base class. ``capacity`` is the number of jobs that may be in flight at once."""

    capacity: int = 1
    _in_flight: Sized
    """Subclasses keep here the jobs submitted and not yet returned by :meth:`wait`."""

    @property
    def pending(self) -> int:
        return len(self._in_flight)

    @abstractmethod
    def submit(self, job: EvaluationJob) -> None:
        """Start training ``job`` (never blocks while fewer than ``capacity`` are in flight)."""

    @abstractmethod
    def wait(self) -> EvaluationOutcome:
        """Block until some submitted job finishes and return its outcome."""

    def close(self) -> None:  # noqa: B027 - an optional hook: executors without workers have nothing to stop
        """Stop workers; jobs still in flight are abandoned."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


EXECUTORS: Registry[Callable[..., Executor]] = Registry("executor")
register_executor = EXECUTORS.register


def list_executors() -> list[str]:
    return EXECUTORS.names()


def create_executor(name: str, workers: int = 1, address: str | None = None) -> Executor:
    """Start the executor registered as ``name`` with ``workers`` workers (``address``: Ray's)."""
    factory = EXECUTORS.get(name)
    if workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    return factory(workers=workers, address=address)


@register_executor("inprocess")
class InProcessExecutor(Executor):
    """Trains in the calling process when the result is waited for (one at a time)."""

    def __init__(self, workers: int = 1, address: str | None = None) -> None:
        # trained one at a time in wait(), whatever ``workers`` says (the config refuses workers > 1)
        self._in_flight: list[EvaluationJob] = []

    def submit(self, job: EvaluationJob) -> None:
        self._in_flight.append(job)

    def wait(self) -> EvaluationOutcome:
        return evaluate(self._in_flight.pop(0))


def _init_worker(threads: int) -> None:
    """Pool worker setup: the parent handles Ctrl-C, workers share the cores evenly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import torch

    torch.set_num_threads(threads)


class WorkerLost(UserError):
    """A worker process died (killed, or out of memory) with candidates in flight."""


@register_executor("process")
class ProcessExecutor(Executor):
    """A pool of spawned worker processes (spawn: safe with torch's threads, same on every OS).

    A worker that dies mid-training (the OOM killer, a SIGKILL) breaks the pool; the search
    then stops with :class:`WorkerLost` naming the candidates that were lost instead of
    waiting forever. Every finished candidate is already stored, so ``--resume`` continues.
    """

    def __init__(self, workers: int = 1, address: str | None = None) -> None:
        import multiprocessing

        self.capacity = workers
        threads = max(1, (os.cpu_count() or 1) // workers)
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_init_worker, initargs=(threads,))
        self._in_flight: dict[Future, EvaluationJob] = {}

    def submit(self, job: EvaluationJob) -> None:
        self._in_flight[self._pool.submit(evaluate, job)] = job

    def wait(self) -> EvaluationOutcome:
        done: set[Future] = set()
        while not done:  # a timeout keeps the main thread responsive to SIGINT/SIGTERM
            done, _ = futures.wait(self._in_flight, timeout=0.2, return_when=futures.FIRST_COMPLETED)
        future = min(done, key=lambda f: self._in_flight[f].candidate_id)
        job = self._in_flight.pop(future)
        try:
            return future.result()
        except BrokenProcessPool:
            lost = sorted([job.candidate_id, *(j.candidate_id for j in self._in_flight.values())])
            raise WorkerLost(
                f"a worker process died (killed, or out of memory?) while training candidate(s) "
                f"{', '.join(map(str, lost))}; every finished candidate is stored: continue with --resume "
                "(with fewer --workers if memory ran out)") from None
        except Exception as error:  # e.g. an unpicklable result; evaluate() itself never raises
            raise RuntimeError(f"worker failed on candidate {job.candidate_id}: {error}") from error

    def close(self) -> None:
        """Abandon what is in flight: cancel queued jobs and stop the running ones now."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        # Python < 3.14 has no public way to stop a running worker (terminate_workers).
        for process in list((getattr(self._pool, "_processes", None) or {}).values()):
            process.terminate()
        self._in_flight.clear()


def check_ray_address(address: str | None, timeout: float = 5.0) -> None:
    """Fail at once, with the clear error, when the Ray head to join does not answer.

    Given an address where nothing listens, Ray neither raises nor returns: it retries the
    connection to the cluster's GCS for minutes and may end the process with SIGTERM (exit
    status 15, no message). A plain TCP connection tells within ``timeout`` seconds. Without
    an address or with ``auto``, the head is the one Ray would join (``$RAY_ADDRESS``, or the
    cluster last started on this machine, which may have died since); when there is none, Ray
    starts a local cluster or raises its own clear error, and nothing is probed.
    """
    if address is None or address == "auto":
        address = _address_ray_would_join(address)
    if address is None or address in ("auto", "local"):
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"--address {address!r}: expected auto or HOST:PORT of the Ray head (e.g. 127.0.0.1:6379)")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as error:
        raise UserError(f"cannot reach the Ray cluster at {address!r} ({error.strerror or error}); start it with "
                        "`ray start --head` or use --address auto") from None


def _address_ray_would_join(address: str | None) -> str | None:
    try:  # Ray's own lookup (a private helper: if it moved, Ray's own connection errors remain)
        from ray._private.services import get_ray_address_from_environment

        found = get_ray_address_from_environment(address, None)  # type: ignore[arg-type]  # None is documented
    except Exception:  # no cluster for "auto": ray.init raises its own clear ConnectionError
        return None
    return found if isinstance(found, str) else None


@register_executor("ray")
class RayExecutor(Executor):
    """One Ray task per candidate; GPUs are used one per task when the cluster has them."""

    def __init__(self, workers: int = 1, address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise UserError("--executor ray needs Ray: pip install 'munas[ray]'") from None
        self._ray = ray
        self._started_here = not ray.is_initialized()
        if self._started_here:
            check_ray_address(address)
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False,
                         configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as error:
                raise UserError(f"cannot reach the Ray cluster at {address!r} ({error}); "
                                "start it with `ray start --head` or use --address auto") from None
        gpus = int(ray.cluster_resources().get("GPU", 0))
        self.capacity = workers if workers > 1 else max(1, gpus)
        self._remote = ray.remote(num_cpus=1, num_gpus=1 if gpus else 0)(evaluate)
        self._in_flight: dict[Any, EvaluationJob] = {}

    def submit(self, job: EvaluationJob) -> None:
        self._in_flight[self._remote.remote(job)] = job

    def wait(self) -> EvaluationOutcome:
        ready: list[Any] = []
        while not ready:  # short waits keep SIGINT/SIGTERM responsive
            ready, _ = self._ray.wait(list(self._in_flight), num_returns=1, timeout=0.5)
        reference = ready[0]
        job = self._in_flight.pop(reference)
        try:
            return self._ray.get(reference)
        except self._ray.exceptions.RayError as error:
            raise RuntimeError(f"Ray task for candidate {job.candidate_id} failed: {error}") from None

    def close(self) -> None:
        for reference in self._in_flight:
            self._ray.cancel(reference, force=True)
        self._in_flight.clear()
        if self._started_here:  # a local cluster started for this search goes with it
            self._ray.shutdown()
