"""A shared setting never changes what an arm is, and an arm's evaluation budget is the same in every suite."""

from __future__ import annotations

import json

from benchmarks.config import resolve
from benchmarks.evaluation import evaluation_budget
from benchmarks.run import main


def test_a_shared_segment_budget_leaves_the_single_pass_arms_single_pass_in_the_plan(capsys):
    assert main(["--scale", "smoke", "--dry-run", "--tasks", "sudoku", "--set", "model.halt_max_steps=8"]) == 0
    rows = {line.split("|")[2].strip(): line.split("|")[5].strip()
            for line in capsys.readouterr().out.splitlines() if line.startswith("| sudoku")}
    assert rows["transformer"] == rows["transformer-deep"] == "1"
    assert rows["hrm"] == rows["hrm-bptt"] == rows["transformer-act"] == rows["trm"] == "8"


def test_the_plan_shows_where_each_resolved_setting_came_from(capsys):
    assert main(["--scale", "smoke", "--dry-run", "--tasks", "maze", "--arms", "hrm,transformer,trm",
                 "--set", "model.halt_max_steps=8", "--set", "arm.trm.L_cycles=5", "--set", "train.maze.steps=9"]) == 0
    out = capsys.readouterr().out
    cases = {block.split(":\n")[0].strip(): block for block in out.split("\n\n") if " / " in block.split("\n")[0]}

    def setting(case: str, key: str) -> str:
        (line,) = [line for line in cases[case].splitlines() if line.split("=")[0].strip() == key]
        return line.split("=", 1)[1].strip()

    assert setting("maze / hrm", "model.halt_max_steps") == "8  (user)"
    assert setting("maze / transformer", "model.halt_max_steps") == "1  (arm transformer identity)"
    assert setting("maze / hrm", "model.hidden_size") == "16  (scale smoke)"
    assert setting("maze / trm", "model.L_layers") == "1  (arm trm)"  # the arm's own smoke size
    assert setting("maze / trm", "model.L_cycles") == "5  (user)"
    assert setting("maze / hrm", "task.height") == "6  (task maze)"
    assert setting("maze / hrm", "train.steps") == "9  (user)"


def test_the_evaluation_budget_is_one_segment_for_single_pass_arms_and_the_inference_budget_otherwise():
    config = resolve("smoke", ["train.eval_halt_max_steps=16"])
    assert evaluation_budget(config.model_for("transformer"), config.train.eval_halt_max_steps) == 1
    assert evaluation_budget(config.model_for("hrm"), config.train.eval_halt_max_steps) == 16
    assert evaluation_budget(config.model_for("hrm"), 0) == config.model_for("hrm").halt_max_steps


def test_throughput_times_each_arm_at_the_budget_accuracy_evaluates_it_with(tmp_path, data_cache, tracking_uri):
    def inference_flops(budget: int) -> dict[str, float]:
        out = tmp_path / f"budget-{budget}"
        assert main(["--scale", "smoke", "--suite", "throughput", "--tasks", "sudoku", "--arms", "transformer,hrm",
                     "--out", str(out), "--set", f"train.cache_dir={data_cache}",
                     "--set", f"train.eval_halt_max_steps={budget}"]) == 0
        records = json.loads((out / "results.json").read_text())["records"]
        return {r["arm"]: r["metrics"]["infer_flop_per_iteration"] for r in records}

    at_mmax, at_16 = inference_flops(0), inference_flops(16)
    assert at_16["transformer"] == at_mmax["transformer"]  # single pass at any budget
    assert at_16["hrm"] == at_mmax["hrm"] * 16 / resolve("smoke").model_for("hrm").halt_max_steps
