"""Run settings: layers (shared scale, task, arm, user, identity) folded per case, and their errors."""

from __future__ import annotations

import pytest

from baselines.registry import ARMS
from benchmarks.config import SHARED_SCALES, fold, resolve
from benchmarks.errors import BenchmarkError
from benchmarks.suites.memory import MemorySuite
from tasks.registry import TASKS

SMOKE = SHARED_SCALES["smoke"]


def test_paper_scale_is_the_papers_configuration():
    config = resolve("paper")
    model = config.model_for("hrm")
    assert (model.hidden_size, model.H_cycles, model.L_cycles) == (512, 2, 2)
    optim = config.optim_for("sudoku")
    assert (optim.lr, optim.warmup_steps, config.train.batch_size) == (1e-4, 2000, 768)


def test_preset_values_are_applied_over_the_defaults():
    config = resolve("smoke")
    assert config.model_for("hrm").hidden_size == SMOKE["model.hidden_size"]
    assert config.train.steps == SMOKE["train.steps"]
    assert config.task_config("sudoku").size == TASKS["sudoku"].scales["smoke"]["task.size"]
    assert config.suite("memory").batch_size == MemorySuite.scales["smoke"]["memory.batch_size"]


def test_fold_takes_each_key_from_the_last_layer_that_sets_it():
    folded = fold([("scale", {"model.a": 1, "model.b": 2}), ("arm", {"model.b": 3}), ("user", {"model.c": 4})])
    assert folded == {"model.a": (1, "scale"), "model.b": (3, "arm"), "model.c": (4, "user")}


def test_a_case_says_where_each_setting_came_from():
    case = resolve("smoke", ["model.halt_max_steps=8", "arm.trm.L_cycles=5"]).case("maze", "trm")
    assert case.source("model.hidden_size") == "scale smoke"
    assert case.source("task.height") == "task maze"
    assert case.source("model.L_layers") == "arm trm"
    assert case.source("model.halt_max_steps") == "user" and case.source("model.L_cycles") == "user"
    assert case.source("model.halting") == "arm trm identity"
    assert case.source("model.rope_theta") == "default"


def test_overrides_are_converted_to_each_fields_type():
    config = resolve("smoke", ["model.H_cycles=4", "optim.lr=3e-4", "train.progress=false",
                               "memory.L_cycles_values=1,2,8", "arm.hrm.gradient_mode=bptt",
                               "task.sudoku.test_count=5"])
    assert config.model_for("hrm").H_cycles == 4
    assert config.optim_for("maze").lr == 3e-4
    assert config.train.progress is False
    assert config.suite("memory").L_cycles_values == (1, 2, 8)
    assert config.model_for("hrm").gradient_mode == "bptt"
    assert config.task_config("sudoku").test_count == 5


def test_user_model_overrides_win_over_arm_defaults_but_preset_ones_do_not():
    config = resolve("smoke", ["model.L_cycles=5"])
    assert config.model_for("trm").L_cycles == 5
    assert resolve("smoke").model_for("trm").L_cycles == ARMS["trm"].scales["smoke"]["model.L_cycles"]


def test_arm_overrides_apply_to_that_arm_only():
    config = resolve("smoke", ["arm.hrm.H_cycles=3"])
    assert config.model_for("hrm").H_cycles == 3
    assert config.model_for("hrm-bptt").H_cycles == SMOKE["model.H_cycles"]


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
    assert config.optim_for("sudoku").puzzle_emb_lr == resolve("smoke").optim_for("sudoku").puzzle_emb_lr
    assert config.to_dict()["per_task"]["maze"] == {"train": {"steps": 9}}


def test_a_users_global_training_setting_wins_over_the_presets_per_task_one():
    assert resolve("cpu").train_for("maze").steps == TASKS["maze"].scales["cpu"]["train.steps"]
    config = resolve("cpu", ["train.steps=60"])
    assert config.train_for("maze").steps == 60 and config.train_for("arc").steps == 60
    assert resolve("cpu", ["train.maze.steps=7", "train.steps=60"]).train_for("maze").steps == 7


def test_paper_scale_trains_arc_with_its_own_hyperparameters():
    config = resolve("paper")
    arc, sudoku = config.optim_for("arc"), config.optim_for("sudoku")
    assert (arc.lr, arc.weight_decay, arc.puzzle_emb_lr) == (1e-4, 0.1, 1e-2)
    assert (sudoku.lr, sudoku.weight_decay, sudoku.puzzle_emb_lr) == (1e-4, 1.0, 1e-4)


def test_with_overrides_leaves_the_original_config_unchanged():
    config = resolve("smoke")
    changed = config.with_overrides(["train.steps=99", "arm.hrm.H_cycles=3"])
    assert changed.train.steps == 99 and config.train.steps == SMOKE["train.steps"]
    assert config.model_for("hrm").H_cycles == SMOKE["model.H_cycles"] and changed.model_for("hrm").H_cycles == 3


def test_a_scale_declared_only_by_a_registry_entry_is_a_scale(monkeypatch):
    monkeypatch.setitem(TASKS["maze"].scales, "tiny", {"task.height": 4, "task.width": 4})
    config = resolve("tiny")
    assert config.task_config("maze").height == 4
    assert config.model_for("hrm").hidden_size == 512  # no shared sizes: the defaults


@pytest.mark.parametrize(("override", "message"), [
    ("train.stepz=3", "no field 'stepz'"),
    ("model.hidden=3", "no field 'hidden'"),
    ("train.steps=many", "train.steps: expected an integer, got 'many'"),
    ("optim.lr=fast", "optim.lr: expected a finite number, got 'fast'"),
    ("train.progress=maybe", "expected a boolean"),
    ("arm.hrm.gradient_mode=sideways", "expected one of one_step, bptt"),
    ("nonsense.steps=3", "unknown section 'nonsense'"),
    ("task.chess.size=3", "unknown task 'chess'"),
    ("arm.lstm.H_cycles=3", "unknown arm 'lstm'"),
    ("train.steps", "expected key=value"),
    ("train.steps=0", "train.steps must be >= 1"),
    ("train.maze.steps=0", "train.steps must be >= 1"),
    ("train.maze.stepz=3", "no field 'stepz'"),
    ("memory.L_cycles_values=3", "memory.L_cycles_values needs at least two values"),
    ("task.maze.height", "expected key=value"),
    ("arm.hrm=3", "expected arm.<arm>.<field>"),
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
