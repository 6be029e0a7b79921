import os
import signal

import pytest

from munas.search.interrupts import InterruptGuard, SearchInterrupted


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_interrupts_at_once_outside_a_record(signum):
    with InterruptGuard(), pytest.raises(SearchInterrupted) as caught:
        os.kill(os.getpid(), signum)
        for _ in range(10**7):  # the handler runs between bytecodes; never reached to the end
            pass
    assert caught.value.signum == signum


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_a_record_waits_for_the_record(signum):
    written = []
    with InterruptGuard() as guard, pytest.raises(SearchInterrupted), guard.critical():
        os.kill(os.getpid(), signum)
        for _ in range(1000):
            pass
        written.append("whole record")
    assert written == ["whole record"]


def test_handlers_are_restored():
    before = signal.getsignal(signal.SIGTERM)
    with InterruptGuard():
        assert signal.getsignal(signal.SIGTERM) != before
    assert signal.getsignal(signal.SIGTERM) == before


def test_code_that_catches_exceptions_cannot_swallow_the_interrupt():
    def training_that_turns_errors_into_a_status():
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(10**7):
                pass
        except Exception:
            return "failed"
        return "ok"

    with InterruptGuard(), pytest.raises(SearchInterrupted):
        training_that_turns_errors_into_a_status()
