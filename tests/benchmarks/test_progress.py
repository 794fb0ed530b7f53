"""The run's one progress display: done of N, an ETA from the measured rate, lines without a terminal, and
progress sent by worker processes."""

from __future__ import annotations

import io
import logging
import multiprocessing
import re

from benchmarks import progress as progress_module
from benchmarks.progress import ProgressSender, RunProgress, Work, duration


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _progress(monkeypatch, interval_s: float = 60.0) -> tuple[RunProgress, io.StringIO, _Clock]:
    clock = _Clock()
    monkeypatch.setattr(progress_module.time, "monotonic", clock)
    stream = io.StringIO()  # not a terminal: lines instead of a bar
    work = [Work(("a", 0), cost=10.0, units=100), Work(("a", 1), cost=30.0, units=100)]
    return RunProgress(work, stream=stream, interval_s=interval_s), stream, clock


def test_finished_items_print_their_headline_with_done_of_n_and_an_eta_from_the_measured_rate(monkeypatch):
    progress, stream, clock = _progress(monkeypatch)
    clock.now += 20  # the first item (a quarter of the estimated work) took 20 s: 60 s are left at that rate
    progress.finish(("a", 0), "case 0: exact 0.5")
    assert stream.getvalue() == "[1/2 done, 25%, 20 s elapsed, about 60 s left] case 0: exact 0.5\n"
    assert progress.eta_s() == 60.0


def test_advancing_counts_the_units_done_and_prints_a_line_only_after_the_interval(monkeypatch):
    progress, stream, clock = _progress(monkeypatch, interval_s=60)
    clock.now += 30
    progress.advance(("a", 1), 50)  # half of the 30 s item: 15 of 40 estimated seconds
    assert stream.getvalue() == "" and progress.completed == 15.0
    clock.now += 31
    progress.advance(("a", 1), 60)
    assert re.fullmatch(r"progress: 0/2 done, 45%, 61 s elapsed, about \d+ s left\n", stream.getvalue())
    progress.advance(("unknown",), 5)  # a key no suite declared is ignored
    assert progress.completed == 18.0


def test_a_disabled_display_logs_headlines_at_info_level_and_shows_nothing_else(caplog):
    stream = io.StringIO()
    progress = RunProgress([Work("x", 1.0)], enabled=False, stream=stream)
    progress.advance("x", 1)
    with caplog.at_level(logging.INFO, logger="benchmarks"):
        progress.finish("x", "x: done")
    assert stream.getvalue() == "" and [record.getMessage() for record in caplog.records] == ["x: done"]


def test_progress_sent_by_another_process_reaches_the_display():
    spawn = multiprocessing.get_context("spawn")
    queue = spawn.Queue()
    stream = io.StringIO()
    progress = RunProgress([Work(("case", 0), cost=4.0, units=8)], stream=stream)
    progress.listen(queue)
    worker = spawn.Process(target=_send, args=(queue,))
    worker.start()
    worker.join(timeout=60)
    progress.stop_listening(queue)  # the stop message queues after the worker's, so they are all drained
    assert worker.exitcode == 0 and progress.completed == 3.0  # 6 of 8 steps of a 4 s item


def _send(queue) -> None:
    sender = ProgressSender(queue, interval_s=0.0)
    for step in range(1, 7):
        sender.advance(("case", 0), step)


def test_a_sender_sends_at_most_once_per_interval_per_key():
    sent = []

    class Queue:
        def put(self, message):
            sent.append(message)

    sender = ProgressSender(Queue(), interval_s=3600)
    for step in range(5):
        sender.advance("a", step)
    sender.advance("b", 1)
    assert sent == [("a", 0), ("b", 1)]


def test_durations_read_as_a_person_would_say_them():
    assert [duration(s) for s in (0.42, 45, 720, 9000, 259200)] == ["0.4 s", "45 s", "12 min", "2.5 h", "3 days"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_advancing_redraws_the_bar_at_most_every_refresh_interval(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(progress_module.time, "monotonic", clock)
    progress = RunProgress([Work("a", cost=10.0, units=10)], stream=_Terminal(), refresh_s=0.5)
    progress.advance("a", 1)  # the first advance draws
    progress.advance("a", 2)  # the same instant: counted, not drawn
    assert progress.bar.n == 1.0 and progress.completed == 2.0
    clock.now += 0.5
    progress.advance("a", 3)
    assert progress.bar.n == 3.0
    progress.finish("a")  # a finished item is always drawn
    assert progress.bar.n == 10.0
