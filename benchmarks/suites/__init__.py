"""The suite registry: name -> suite, one line per suite (see benchmarks.suite for the interface).

`--suite all` runs them in this order; the act and claims suites come after the accuracy suite so they can
reuse the models it trained (the claims suite's section leads the report).
"""

from __future__ import annotations

from benchmarks.suite import Suite
from benchmarks.suites.accuracy import AccuracySuite
from benchmarks.suites.act import ActSuite
from benchmarks.suites.claims import ClaimsSuite
from benchmarks.suites.memory import MemorySuite
from benchmarks.suites.throughput import ThroughputSuite

SUITES: dict[str, Suite] = {
    "accuracy": AccuracySuite(),
    "memory": MemorySuite(),
    "throughput": ThroughputSuite(),
    "act": ActSuite(),
    "claims": ClaimsSuite(),
}
