"""The suite registry: name -> suite, one line per suite (see benchmarks.suite for the interface).

`--suite all` runs them in this order; the act suite comes after the accuracy suite so it can reuse the
models that suite trained.
"""

from __future__ import annotations

from benchmarks.suite import Suite
from benchmarks.suites.accuracy import AccuracySuite
from benchmarks.suites.act import ActSuite
from benchmarks.suites.memory import MemorySuite
from benchmarks.suites.throughput import ThroughputSuite

SUITES: dict[str, Suite] = {
    "accuracy": AccuracySuite(),
    "memory": MemorySuite(),
    "throughput": ThroughputSuite(),
    "act": ActSuite(),
}
