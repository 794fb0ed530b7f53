"""The claims registry and the parts of the claims suite that need no training."""

from __future__ import annotations

import math

from baselines.claims import CLAIMS
from baselines.registry import ARMS
from benchmarks.context import TrainedModel
from benchmarks.suites.claims import METHODS, _accuracy_within, _at_a_bound
from hrm.config import ModelConfig


def test_every_claim_names_registered_arms_a_known_method_and_a_unique_id():
    assert len({claim.id for claim in CLAIMS}) == len(CLAIMS)
    assert {claim.id[:2] for claim in CLAIMS} == {f"C{k}" for k in range(1, 8)}
    for claim in CLAIMS:
        assert claim.method in METHODS
        assert claim.subject in ARMS and (claim.control is None or claim.control in ARMS)
        assert claim.direction in ("higher", "not_lower")


def test_equal_wall_time_reads_the_last_evaluation_reached_in_time():
    case = TrainedModel(ModelConfig(), None, metrics={"steps_trained": 1000.0, "train_wall_s": 100.0},
                        series={"test_exact_accuracy": [[500, 0.1], [1000, 0.3]]})
    assert _accuracy_within(case, 100.0) == 0.3
    assert _accuracy_within(case, 60.0) == 0.1
    assert math.isnan(_accuracy_within(case, 40.0))


def test_comparisons_at_the_floor_or_the_ceiling_say_so():
    assert "floor" in _at_a_bound({0: 0.0, 1: 0.0}, {0: 0.0, 1: 0.0})
    assert "ceiling" in _at_a_bound({0: 1.0}, {0: 1.0})
    assert _at_a_bound({0: 0.0}, {0: 0.1}) == ""
