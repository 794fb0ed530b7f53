"""Memory suite: O(1) activation memory for the one-step gradient, O(T) for BPTT."""

from __future__ import annotations

from benchmarks.context import SuiteContext
from benchmarks.suites import memory
from benchmarks.tracking import TrackedRun, Tracker


def _run(config, arms, cpu, tmp_path):
    tracker = Tracker(None)
    ctx = SuiteContext(config, ["sudoku"], arms, [0], cpu, tmp_path, tracker, TrackedRun(tracker, None))
    return list(memory.run(ctx))


def _slopes(records, arm):
    return next(r["metrics"] for r in records if r["arm"] == arm and "sweep" not in r["params"])


def test_hrm_slope_is_zero_and_hrm_bptt_slope_is_positive(smoke_config, cpu, tmp_path):
    records = _run(smoke_config(), ["hrm", "hrm-bptt"], cpu, tmp_path)
    assert _slopes(records, "hrm")["slope_saved_bytes_vs_T"] == 0.0
    assert _slopes(records, "hrm")["slope_saved_bytes_vs_N"] == 0.0
    assert _slopes(records, "hrm-bptt")["slope_saved_bytes_vs_T"] > 0
    assert _slopes(records, "hrm-bptt")["slope_saved_bytes_vs_N"] > 0


def test_memory_records_one_point_per_T_and_N_value(smoke_config, cpu, tmp_path):
    config = smoke_config("memory.T_values=1,2,3", "memory.N_values=1,4")
    records = _run(config, ["hrm"], cpu, tmp_path)
    points = [(r["params"]["sweep"], r["params"]["N"], r["params"]["T"]) for r in records if "sweep" in r["params"]]
    n, t = config.model.H_cycles, config.model.L_cycles
    assert points == [("T", n, 1), ("T", n, 2), ("T", n, 3), ("N", 1, t), ("N", 4, t)]
    assert all(r["metrics"]["saved_bytes"] > 0 for r in records if "sweep" in r["params"])


def test_slope_is_the_least_squares_fit():
    assert memory.slope([1, 2, 3], [10.0, 10.0, 10.0]) == 0.0
    assert memory.slope([1, 2, 4], [3.0, 5.0, 9.0]) == 2.0
