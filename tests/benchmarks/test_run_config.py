"""Run settings: scale presets, `--set` overrides and their errors."""

from __future__ import annotations

import pytest

from benchmarks.config import PRESETS, apply_overrides, resolve
from benchmarks.errors import BenchmarkError


def test_paper_scale_is_the_papers_configuration():
    config = resolve("paper")
    assert (config.model.hidden_size, config.model.H_cycles, config.model.L_cycles) == (512, 2, 2)
    assert (config.optim.lr, config.optim.warmup_steps, config.train.batch_size) == (1e-4, 2000, 768)


def test_preset_values_are_applied_over_the_defaults():
    config = resolve("smoke")
    assert config.model.hidden_size == PRESETS["smoke"]["model.hidden_size"]
    assert config.train.steps == PRESETS["smoke"]["train.steps"]
    assert config.tasks["sudoku"].size == PRESETS["smoke"]["task.sudoku.size"]


def test_overrides_are_converted_to_each_fields_type():
    config = resolve("smoke", ["model.H_cycles=4", "optim.lr=3e-4", "train.progress=false",
                               "memory.T_values=1,2,8", "arm.hrm.gradient_mode=bptt", "task.sudoku.test_size=5"])
    assert config.model.H_cycles == 4
    assert config.optim.lr == 3e-4
    assert config.train.progress is False
    assert config.memory.T_values == (1, 2, 8)
    assert config.model_for("hrm").gradient_mode == "bptt"
    assert config.tasks["sudoku"].test_size == 5


def test_user_model_overrides_win_over_arm_defaults_but_preset_ones_do_not():
    config = resolve("smoke", ["model.L_cycles=5"])
    assert config.model_overrides == {"L_cycles": 5}
    assert config.model_for("trm").L_cycles == 5
    assert resolve("smoke").model_overrides == {}
    assert resolve("smoke").model_for("trm").L_cycles == PRESETS["smoke"]["arm.trm.L_cycles"]


def test_arm_overrides_apply_to_that_arm_only():
    config = resolve("smoke", ["arm.hrm.H_cycles=3"])
    assert config.model_for("hrm").H_cycles == 3
    assert config.model_for("hrm-bptt").H_cycles == PRESETS["smoke"]["model.H_cycles"]


def test_a_shared_segment_budget_leaves_the_single_pass_arms_single_pass():
    config = resolve("smoke", ["model.halt_max_steps=8"])
    for arm in ("transformer", "transformer-deep"):
        assert config.model_for(arm).halt_max_steps == 1
    for arm in ("hrm", "hrm-bptt", "transformer-act", "trm"):
        assert config.model_for(arm).halt_max_steps == 8


def test_an_arms_own_override_may_change_its_identity():
    config = resolve("smoke", ["arm.transformer.halt_max_steps=4", "arm.hrm.gradient_mode=bptt"])
    assert config.model_for("transformer").halt_max_steps == 4
    assert config.model_for("hrm").gradient_mode == "bptt"
    assert config.model_for("hrm-bptt").gradient_mode == "bptt"
    assert config.model_for("transformer-deep").halt_max_steps == 1


@pytest.mark.parametrize("override", ["model.gradient_mode=one_step", "model.gradient_mode=bptt",
                                      "model.halting=exact"])
def test_a_shared_override_of_a_setting_that_defines_every_arm_is_an_error_naming_them(override):
    with pytest.raises(BenchmarkError, match=r"defines each arm \(hrm=.*hrm-bptt=.*\).*arm\.<arm>\."):
        resolve("smoke", [override])


def test_task_overrides_apply_to_that_task_only():
    config = resolve("smoke", ["train.maze.steps=9", "optim.arc.puzzle_emb_lr=0.05", "train.steps=4"])
    assert config.train_for("maze").steps == 9
    assert config.train_for("sudoku").steps == 4 and config.train.steps == 4
    assert config.optim_for("arc").puzzle_emb_lr == 0.05
    assert config.optim_for("sudoku").puzzle_emb_lr == config.optim.puzzle_emb_lr
    assert config.to_dict()["task_overrides"]["maze"] == {"train": {"steps": 9}}


def test_a_users_global_training_setting_wins_over_the_presets_per_task_one():
    assert resolve("cpu").train_for("maze").steps == PRESETS["cpu"]["train.maze.steps"]
    config = resolve("cpu", ["train.steps=60"])
    assert config.train_for("maze").steps == 60 and config.train_for("arc").steps == 60
    assert resolve("cpu", ["train.maze.steps=7", "train.steps=60"]).train_for("maze").steps == 7


def test_paper_scale_trains_arc_with_its_own_hyperparameters():
    config = resolve("paper")
    arc, sudoku = config.optim_for("arc"), config.optim_for("sudoku")
    assert (arc.lr, arc.weight_decay, arc.puzzle_emb_lr) == (1e-4, 0.1, 1e-2)
    assert (sudoku.lr, sudoku.weight_decay, sudoku.puzzle_emb_lr) == (1e-4, 1.0, 1e-4)


def test_apply_overrides_leaves_the_original_config_unchanged():
    config = resolve("smoke")
    changed = apply_overrides(config, ["train.steps=99", "arm.hrm.H_cycles=3"])
    assert changed.train.steps == 99 and config.train.steps == PRESETS["smoke"]["train.steps"]
    assert "hrm" not in config.arm_overrides


@pytest.mark.parametrize(("override", "message"), [
    ("train.stepz=3", "no field 'stepz'"),
    ("model.hidden=3", "no field 'hidden'"),
    ("train.steps=many", "train.steps: expected an integer, got 'many'"),
    ("optim.lr=fast", "optim.lr: expected a number"),
    ("train.progress=maybe", "expected a boolean"),
    ("model.gradient_mode=sideways", "must be one of one_step, bptt"),
    ("nonsense.steps=3", "unknown section 'nonsense'"),
    ("task.chess.size=3", "unknown task 'chess'"),
    ("arm.lstm.H_cycles=3", "unknown arm 'lstm'"),
    ("train.steps", "expected key=value"),
    ("train.steps=0", "train.steps must be >= 1"),
    ("train.maze.steps=0", "train.steps must be >= 1"),
    ("train.maze.stepz=3", "no field 'stepz'"),
    ("optim.arc.lr=-1", "optim.arc: OptimConfig.lr must be a finite number >= 0"),
    ("model.num_heads=3", "hidden_size (16) must be divisible by num_heads (3)"),
    ("task.sudoku.size=5", "SudokuConfig.size"),
    ("optim.lr=nan", "optim.lr: expected a finite number, got 'nan'"),
    ("train.early_stop_exact_accuracy=inf", "expected a finite number"),
    ("model.rope_theta=-1", "rope_theta"),
    ("task.maze.wall_fraction_max=nan", "expected a finite number"),
])
def test_bad_override_raises_one_benchmark_error_naming_it(override, message):
    with pytest.raises(BenchmarkError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve("smoke", [override])


def test_unknown_scale_is_rejected():
    with pytest.raises(BenchmarkError, match="unknown scale 'huge'"):
        resolve("huge")
