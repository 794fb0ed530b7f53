"""A stop (SIGTERM, Ctrl-C) is raised at once, except inside a tracking call, which it waits for."""

from __future__ import annotations

import signal

import pytest

from benchmarks import interrupts


def test_sigterm_raises_stopped_and_ctrl_c_keyboard_interrupt():
    with interrupts.handled():
        with pytest.raises(interrupts.Stopped, match="stopped by signal 15"):
            signal.raise_signal(signal.SIGTERM)
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)


def test_a_stop_inside_a_protected_call_is_raised_once_the_call_is_done():
    done = []
    with interrupts.handled(), pytest.raises(interrupts.Stopped):
        with interrupts.protected():
            signal.raise_signal(signal.SIGTERM)
            done.append("the rest of the call")
        done.append("after the call")  # never reached: the stop is raised on leaving the protected block
    assert done == ["the rest of the call"]


def test_the_previous_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM)
    with interrupts.handled():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before
