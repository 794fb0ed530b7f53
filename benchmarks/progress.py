"""One progress display for a whole run: every suite's work items, done of N, with an ETA.

Each suite declares its work before it starts (`Suite.work`): one `Work` per case or measurement, with its
estimated cost in seconds and the units it advances in (training steps, for a training case). The bar counts
estimated seconds, so its ETA is the remaining estimate divided by the rate measured so far: a machine twice as
slow as the estimate shows twice the estimate, after the first minutes.

    progress = RunProgress(work, enabled=True)
    progress.advance(("accuracy", "sudoku", "hrm", 0), 250)  # 250 of its steps done
    progress.finish(("accuracy", "sudoku", "hrm", 0), "accuracy: sudoku / hrm / seed 0: test exact 0.41")
    progress.close()

On a terminal it is a tqdm bar with the finished items' headlines printed above it; elsewhere (a log file, CI)
each finished item prints its headline after a `[k/N, p%, elapsed, ETA]` prefix, and long gaps get a plain
progress line at most every `interval_s`. Parallel workers send `(key, units)` through a queue that
`listen` drains in a thread of the main process (`ProgressSender` is the workers' end).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import IO, Any

from tqdm import tqdm

log = logging.getLogger(__name__)
_STOP = None  # what `stop_listening` puts on the queue


@dataclass(frozen=True)
class Work:
    """One item of a suite's work: `key` names it, `cost` is its estimated seconds, `units` its steps."""

    key: Hashable
    cost: float
    units: int = 1


def duration(seconds: float) -> str:
    """A short human duration: 0.4 s, 45 s, 12 min, 2.5 h, 3 days."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:,.0f} days"


class RunProgress:
    """The run's progress over `work` (see the module docstring); `enabled=False` shows nothing."""

    def __init__(self, work: list[Work], *, enabled: bool = True, stream: IO[str] | None = None,
                 interval_s: float = 60.0, refresh_s: float = 0.5) -> None:
        self.items = {item.key: item for item in work}
        self.stream = stream or sys.stderr
        self.enabled = enabled and bool(self.items)
        self.interval_s = interval_s
        self.total = sum(item.cost for item in self.items.values())
        self.done: dict[Hashable, float] = {}  # key -> units done
        self.finished: set[Hashable] = set()
        self.started = time.monotonic()
        self.last_line = self.started
        self.refresh_s = refresh_s  # advancing redraws the bar at most this often (it is called every step)
        self.last_refresh = -refresh_s
        self.lock = threading.Lock()
        self.terminal = self.enabled and self.stream.isatty()
        self.bar = tqdm(total=self.total, disable=not self.terminal, file=self.stream, smoothing=0, position=0,
                        dynamic_ncols=True, bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")
        self._describe()
        self.listener: threading.Thread | None = None

    @property
    def completed(self) -> float:
        """Estimated seconds of the work done so far."""
        return sum(self.items[key].cost * min(units, self.items[key].units) / self.items[key].units
                   for key, units in self.done.items())

    def eta_s(self) -> float | None:
        """Seconds left at the rate measured so far; None before anything is done."""
        completed, elapsed = self.completed, time.monotonic() - self.started
        if completed <= 0 or elapsed <= 0:
            return None
        return (self.total - completed) / (completed / elapsed)

    def advance(self, key: Hashable, units: float) -> None:
        """Item `key` has `units` of its units done (ignored for a key no suite declared)."""
        if key not in self.items or not self.enabled:
            return
        with self.lock:
            self.done[key] = max(self.done.get(key, 0.0), float(units))
            now = time.monotonic()
            if self.terminal and now - self.last_refresh >= self.refresh_s:
                self._refresh()
            if not self.terminal and now - self.last_line >= self.interval_s:
                self._print(f"progress: {self._status()}")

    def finish(self, key: Hashable, line: str | None = None) -> None:
        """Item `key` is done; `line` (its headline result) is printed (logged at info level when the display is
        off, so that `-q` leaves it out)."""
        if not self.enabled:
            if line:
                log.info(line)
            return
        with self.lock:
            if key in self.items:
                self.done[key] = self.items[key].units
                self.finished.add(key)
            self._refresh()
            if line:
                self._print(line if self.terminal else f"[{self._status()}] {line}")

    def write(self, line: str) -> None:
        """A line printed above the bar."""
        with self.lock:
            self._print(line)

    def listen(self, queue: Any) -> None:
        """Drain `(key, units)` messages from a multiprocessing queue in a thread until `stop_listening`."""
        def drain() -> None:
            while (message := queue.get()) is not _STOP:
                self.advance(*message)

        self.listener = threading.Thread(target=drain, name="progress", daemon=True)
        self.listener.start()

    def stop_listening(self, queue: Any) -> None:
        if self.listener is not None:
            queue.put(_STOP)
            self.listener.join(timeout=5)
            self.listener = None

    def close(self) -> None:
        with self.lock:
            self.bar.close()

    def _status(self) -> str:
        total = len(self.items)
        percent = 100 * self.completed / self.total if self.total else 100
        eta = self.eta_s()
        left = "" if eta is None else f", about {duration(eta)} left"
        return (f"{len(self.finished)}/{total} done, {percent:.0f}%, "
                f"{duration(time.monotonic() - self.started)} elapsed{left}")

    def _describe(self) -> None:
        self.bar.set_description_str(f"{len(self.finished)}/{len(self.items)} done", refresh=False)

    def _refresh(self) -> None:
        self.last_refresh = time.monotonic()
        self._describe()
        self.bar.n = self.completed
        self.bar.refresh()

    def _print(self, line: str) -> None:
        self.last_line = time.monotonic()
        if self.terminal:
            self.bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)


class ProgressSender:
    """A worker's end of `RunProgress.listen`: sends `(key, units)` at most every `interval_s` per key."""

    def __init__(self, queue: Any, interval_s: float = 1.0) -> None:
        self.queue = queue
        self.interval_s = interval_s
        self.sent: dict[Hashable, float] = {}

    def advance(self, key: Hashable, units: float) -> None:
        now = time.monotonic()
        if now - self.sent.get(key, 0.0) >= self.interval_s:
            self.sent[key] = now
            self.queue.put((key, units))
