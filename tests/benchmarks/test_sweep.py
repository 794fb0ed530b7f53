"""`python -m benchmarks.sweep`: search space, study storage and resumption, MLflow trial runs, summary."""

from types import SimpleNamespace

import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution

from benchmarks.errors import BenchmarkError
from benchmarks.sweep import main, objective_values, with_compute
from benchmarks.sweep_space import parse_space
from benchmarks.sweep_summary import MIN_TRIALS_FOR_IMPORTANCE, write_summary


def test_space_aliases_set_the_swept_arms_fields_and_the_learning_rate():
    space = parse_space("N=1:4,T=1:8,Mmax=1:16,lr=log:1e-5:1e-3", arm="hrm")
    assert [(d.name, d.key, d.low, d.high, d.log) for d in space] == [
        ("N", "arm.hrm.H_cycles", 1, 4, False),
        ("T", "arm.hrm.L_cycles", 1, 8, False),
        ("Mmax", "arm.hrm.halt_max_steps", 1, 16, False),
        ("lr", "optim.lr", 1e-5, 1e-3, True),
    ]
    assert space[0].override(3) == "arm.hrm.H_cycles=3"


def test_space_accepts_any_config_key_and_float_ranges():
    (dimension,) = parse_space("optim.weight_decay=0:1.5", arm="trm")
    assert (dimension.key, dimension.low, dimension.high) == ("optim.weight_decay", 0.0, 1.5)
    assert isinstance(dimension.low, float)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("N=4:1", "'N=4:1': low bound 4 is above high bound 1"),
        ("N=1", "'N=1': expected NAME=LOW:HIGH"),
        ("X=1:2", "unknown parameter 'X'"),
        ("lr=log:0:1e-3", "a log range needs a low bound > 0"),
        ("N=a:b", "bounds must be numbers"),
        ("N=1:2,N=1:3", "names 'N' twice"),
        ("", "--space is empty"),
    ],
)
def test_bad_space_gives_one_error_naming_the_item(text, message):
    with pytest.raises(BenchmarkError, match=message):
        parse_space(text, arm="hrm")


def test_objectives_read_accuracy_and_compute_per_example_from_the_evaluation():
    metrics = with_compute({"exact_accuracy": 0.5, "mean_segments": 2.5}, applications_per_segment=8)
    assert metrics["block_applications"] == 20.0
    assert objective_values("exact", metrics) == (0.5,)
    assert objective_values("exact-per-compute", metrics) == (0.025,)
    assert objective_values("pareto", metrics) == (0.5, 20.0)
    with pytest.raises(BenchmarkError, match="lacks exact_accuracy or mean_segments"):
        with_compute({"exact_accuracy": 0.5}, applications_per_segment=8)


def _study_with(values, directions=("maximize",)):
    """An in-memory study holding finished trials with the given objective values (no training)."""
    study = optuna.create_study(directions=list(directions))
    study.set_user_attr(
        "objective_names", ["exact_accuracy", "block_applications"][: len(directions)]
    )
    distributions = {"N": IntDistribution(1, 4), "lr": FloatDistribution(1e-5, 1e-3, log=True)}
    for number, value in enumerate(values):
        value = value if isinstance(value, tuple) else (value,)
        study.add_trial(optuna.trial.create_trial(
            params={"N": 1 + number % 4, "lr": 1e-5 * (1 + number)}, distributions=distributions, values=list(value),
            user_attrs={"metrics": {"exact_accuracy": value[0], "token_accuracy": 0.9}},
        ))
    return study


def test_summary_lists_the_best_trials_best_first_with_a_history_plot(tmp_path):
    summary = write_summary(_study_with([0.1, 0.7, 0.4]), tmp_path, ["- task: `sudoku`"]).read_text()
    best = summary.split("## Best trials")[1].split("##")[0]
    assert best.index("| 0.7 ") < best.index("| 0.4 ") < best.index("| 0.1 ")
    assert "- trials: 3 (3 complete)" in summary
    assert "![history](history.png)" in summary and (tmp_path / "history.png").stat().st_size > 0


def test_summary_guards_importances_with_too_few_complete_trials(tmp_path):
    summary = write_summary(_study_with([0.1, 0.7]), tmp_path, []).read_text()
    assert f"Not estimated: 2 complete trial(s), at least {MIN_TRIALS_FOR_IMPORTANCE}" in summary


def test_summary_does_not_rank_importances_when_every_trial_scored_the_same(tmp_path):
    summary = write_summary(_study_with([0.0] * 6), tmp_path, []).read_text()
    assert "Not estimated: all 6 complete trials have the same objective value." in summary


def test_summary_ranks_parameter_importances_with_enough_trials(tmp_path):
    summary = write_summary(_study_with([0.1 * n for n in range(8)]), tmp_path, []).read_text()
    importances = summary.split("## Parameter importances")[1].split("##")[0]
    assert "| N " in importances and "| lr " in importances and "Not estimated" not in importances


def test_pareto_summary_shows_the_front_ordered_by_compute(tmp_path):
    study = _study_with([(0.2, 10.0), (0.5, 40.0), (0.1, 50.0), (0.6, 80.0)], ("maximize", "minimize"))
    summary = write_summary(study, tmp_path, []).read_text()
    front = summary.split("## Pareto front")[1].split("##")[0]
    rows = [line for line in front.splitlines() if line.startswith("| ") and "trial" not in line]
    assert [row.split("|")[1].strip() for row in rows] == ["0", "1", "3"]  # trial 2 is dominated by trial 1
    assert (tmp_path / "pareto.png").stat().st_size > 0


# --- end to end at smoke scale: one tiny task, a small space, a temporary results folder and MLflow store ---

SWEEP = ["--task", "maze", "--scale", "smoke", "--space", "N=1:2,T=1:2,Mmax=1:2", "--study", "tiny"]


@pytest.fixture(scope="module")
def swept(tmp_path_factory, data_cache):
    """A 3-trial sweep of `hrm`, run once for the tests below."""
    root = tmp_path_factory.mktemp("results")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    args = [*SWEEP, "--out", str(root / "sweep"), "--set", f"train.cache_dir={data_cache}", "--set", "train.progress=0"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        code = main([*args, "--arm", "hrm", "--trials", "3"])
        trials = len(_load(root / "sweep").trials) if code == 0 else None
    return SimpleNamespace(out=root / "sweep", uri=uri, args=args, code=code, trials=trials)


def _load(out):
    return optuna.load_study(study_name="tiny", storage=f"sqlite:///{out / 'optuna.db'}")


def test_sweep_of_three_trials_writes_the_study_and_the_summary(swept):
    assert swept.code == 0 and swept.trials == 3
    summary = (swept.out / "summary.md").read_text()
    assert summary.startswith("# Sweep `tiny`")
    assert "## Best trials" in summary and "## Parameter importances" in summary
    assert (swept.out / "history.png").exists()


def test_each_trial_is_a_nested_mlflow_run_under_the_sweep_run(swept):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(swept.uri)
    runs = client.search_runs([client.get_experiment_by_name("hrm-bench").experiment_id])
    (parent,) = [run for run in runs if run.info.run_name == "sweep/tiny"]
    trials = [run for run in runs if run.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert sorted(run.data.tags["optuna.trial"] for run in trials) == ["0", "1", "2"]
    assert all({"N", "T", "Mmax"} <= set(run.data.params) for run in trials)
    assert all("eval_exact_accuracy" in run.data.metrics for run in trials)


def test_the_objective_is_named_for_optuna_dashboard_and_trial_attributes_stay_compact(swept):
    study = _load(swept.out)
    assert study.metric_names == ["exact_accuracy"]
    for trial in study.trials:
        for _, metrics in trial.user_attrs["evaluations"]:
            assert set(metrics) == {"exact_accuracy", "token_accuracy", "mean_segments"}


def test_the_first_trial_of_a_new_study_is_the_scales_own_setting(swept):
    first = _load(swept.out).trials[0]
    assert first.params == {"N": 2, "T": 2, "Mmax": 2}  # the smoke preset's H_cycles, L_cycles, halt_max_steps


def test_rerunning_with_the_same_study_name_adds_trials_to_it(swept, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", swept.uri)
    assert main([*swept.args, "--arm", "hrm", "--trials", "2"]) == 0
    assert len(_load(swept.out).trials) == 5
    assert "- trials: 5 (" in (swept.out / "summary.md").read_text()


def test_pareto_objective_trades_accuracy_against_compute(swept, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", swept.uri)
    out = swept.out.parent / "pareto"
    assert main([*swept.args, "--arm", "hrm", "--objective", "pareto", "--out", str(out), "--trials", "2"]) == 0
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{out / 'optuna.db'}")
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert all(len(trial.values) == 2 and trial.values[1] >= 1 for trial in study.trials)
    assert "## Pareto front" in (out / "summary.md").read_text() and (out / "pareto.png").exists()


def test_a_study_made_for_another_arm_is_not_resumed(swept, capsys):
    assert main([*swept.args, "--arm", "trm", "--trials", "1"]) == 2
    error = capsys.readouterr().err
    assert "study 'tiny'" in error and "choose another --study name" in error


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--task", "chess"], "--task 'chess': unknown task"),
        (["--task", "maze", "--arm", "rnn"], "--arm 'rnn': unknown arm"),
        (["--task", "maze", "--space", "N=0:2"], "H_cycles"),
        (["--task", "maze", "--set", "train.nope=1"], "no field 'nope'"),
        (["--task", "maze", "--trials", "0"], "--trials must be >= 1"),
        (["--task", "maze", "--prune-warmup", "1.5"], "--prune-warmup must be in [0, 1]"),
        (["--task", "maze", "--storage", "nosuchdb://host/x"], "--storage nosuchdb://host/x: cannot open"),
        (["--task", "maze", "--space", "model.num_heads=1:4"],
         "--space model.num_heads=1:4: the value 3 inside the range is rejected"),
        (["--task", "maze", "--space", "lr=log:1e-5:1e-3,model.hidden_size=16:20"],
         "the value 17 inside the range is rejected"),
    ],
)
def test_bad_arguments_give_one_clear_error(tmp_path, data_cache, capsys, argv, message):
    assert main([*argv, "--scale", "smoke", "--out", str(tmp_path), "--set", f"train.cache_dir={data_cache}"]) == 2
    assert message in capsys.readouterr().err


def test_probe_values_cover_every_integer_of_a_narrow_range_and_spread_over_a_wide_one():
    from benchmarks.sweep import PROBED_INTEGERS, probe_values
    from benchmarks.sweep_space import Dimension

    assert probe_values(Dimension("N", "arm.hrm.H_cycles", 1, 4)) == [1, 2, 3, 4]
    wide = probe_values(Dimension("d", "model.hidden_size", 16, 4096))
    assert wide[0] == 16 and wide[-1] == 4096 and len(wide) <= PROBED_INTEGERS
    floats = probe_values(Dimension("lr", "optim.lr", 1e-5, 1e-3, log=True))
    assert floats[0] == 1e-5 and floats[-1] == 1e-3 and len(floats) == 9
