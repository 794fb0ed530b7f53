"""Memory suite: O(1) activation memory for the one-step gradient, O(T) for BPTT."""

from __future__ import annotations

from benchmarks.context import SuiteContext
from benchmarks.suites import memory
from benchmarks.suites.memory import MemorySuite
from benchmarks.tracking import TrackedRun, Tracker


def _run(config, arms, cpu, tmp_path):
    tracker = Tracker(None)
    ctx = SuiteContext(config, ["sudoku"], arms, [0], cpu, tmp_path, tracker, TrackedRun(tracker, None))
    return [record.to_dict() for record in MemorySuite().run(ctx)]


def _slopes(records, arm):
    return next(r["metrics"] for r in records if r["arm"] == arm and "sweep" not in r["params"])


def test_hrm_slope_is_zero_and_hrm_bptt_slope_is_positive(smoke_config, cpu, tmp_path):
    records = _run(smoke_config(), ["hrm", "hrm-bptt"], cpu, tmp_path)
    assert _slopes(records, "hrm")["slope_saved_bytes_vs_L_cycles"] == 0.0
    assert _slopes(records, "hrm")["slope_saved_bytes_vs_H_cycles"] == 0.0
    assert _slopes(records, "hrm-bptt")["slope_saved_bytes_vs_L_cycles"] > 0
    assert _slopes(records, "hrm-bptt")["slope_saved_bytes_vs_H_cycles"] > 0


def test_memory_records_one_point_per_value_of_each_loop(smoke_config, cpu, tmp_path):
    config = smoke_config("memory.L_cycles_values=1,2,3", "memory.H_cycles_values=1,4")
    records = _run(config, ["hrm"], cpu, tmp_path)
    points = [(r["params"]["sweep"], r["params"]["H_cycles"], r["params"]["L_cycles"]) for r in records
              if "sweep" in r["params"]]
    n, t = config.model_for("hrm").H_cycles, config.model_for("hrm").L_cycles
    assert points == [("L_cycles", n, 1), ("L_cycles", n, 2), ("L_cycles", n, 3), ("H_cycles", 1, t),
                      ("H_cycles", 4, t)]
    assert all(r["metrics"]["saved_bytes"] > 0 for r in records if "sweep" in r["params"])


def test_each_arm_names_its_own_loops(smoke_config, cpu, tmp_path):
    records = _run(smoke_config(), ["hrm", "trm"], cpu, tmp_path)
    loops = {(r["arm"], r["params"]["sweep"]): r["params"]["loop"] for r in records if "sweep" in r["params"]}
    assert loops[("hrm", "L_cycles")].startswith("T ") and loops[("hrm", "H_cycles")].startswith("N ")
    assert loops[("trm", "L_cycles")].startswith("n ") and loops[("trm", "H_cycles")].startswith("T ")


def test_slope_is_the_least_squares_fit():
    assert memory.slope([1, 2, 3], [10.0, 10.0, 10.0]) == 0.0
    assert memory.slope([1, 2, 4], [3.0, 5.0, 9.0]) == 2.0
