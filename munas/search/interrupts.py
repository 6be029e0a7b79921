"""SIGINT/SIGTERM during a search: stop at once, but never in the middle of writing a record.

Inside :meth:`InterruptGuard.critical` a signal is only noted; it is acted on when the
block ends, so the candidate being stored is stored completely. Anywhere else the signal
raises :class:`SearchInterrupted` immediately (a training in flight is abandoned, exactly
as a SIGKILL would lose it). Handlers are only installed in the main thread, where Python
delivers signals.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SearchInterrupted(BaseException):
    """Raised in the main thread by a signal. A BaseException (like KeyboardInterrupt) so that
    code catching ``Exception`` (e.g. a training that turns errors into a failed status) cannot
    swallow it and record an interrupted candidate as failed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class InterruptGuard:
    def __init__(self) -> None:
        self.signum: int | None = None
        self._critical = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signum = signum
        if not self._critical:
            raise SearchInterrupted(signum)

    @contextmanager
    def critical(self) -> Iterator[None]:
        """Defer signals until the block (one store transaction) has finished."""
        self._critical = True
        try:
            yield
        finally:
            self._critical = False
        if self.signum is not None:
            raise SearchInterrupted(self.signum)

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()
