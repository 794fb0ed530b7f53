"""`python -m benchmarks.evaluate`: a reference-layout checkpoint on a reference-layout dataset, end to end, a
checkpoint of this suite, and every refusal."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import yaml
from model_helpers import reference_state_dict

from benchmarks.evaluate import main
from benchmarks.evaluation import evaluate_split
from hrm.config import ModelConfig
from hrm.model import build_hrm
from tasks.dataset import load_dataset
from tasks.registry import get_task, task_config

# A valid 9x9 Sudoku; each example relabels its digits.
SOLUTION = np.array([[(r * 3 + r // 3 + c) % 9 for c in range(9)] for r in range(9)])
ARCH = {"name": "hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1",
        "loss": {"name": "losses@ACTLossHead", "loss_type": "stablemax_cross_entropy"},
        "halt_exploration_prob": 0.1, "halt_max_steps": 4, "H_cycles": 2, "L_cycles": 2, "H_layers": 1,
        "L_layers": 1, "hidden_size": 32, "num_heads": 2, "expansion": 4, "puzzle_emb_ndim": 32,
        "pos_encodings": "rope"}


def write_reference_sudoku(root, examples=12, seed=0, vocab_size=11, num_identifiers=1):
    """A Sudoku dataset folder as the reference's dataset/build_sudoku_dataset.py writes it: uint8 tokens
    (digit + 1, blank 1), int32 offsets, set "all", ignore_label_id 0, identifiers.json at the root."""
    rng = np.random.default_rng(seed)
    for split in ("train", "test"):
        solutions = np.stack([rng.permutation(9)[SOLUTION] + 1 for _ in range(examples)])  # digits 1..9
        puzzles = np.where(rng.random(solutions.shape) < 0.4, 0, solutions)
        folder = root / split
        folder.mkdir(parents=True)
        arrays = {"inputs": (puzzles.reshape(examples, 81) + 1).astype(np.uint8),
                  "labels": (solutions.reshape(examples, 81) + 1).astype(np.uint8),
                  "group_indices": np.arange(examples + 1, dtype=np.int32),
                  "puzzle_indices": np.arange(examples + 1, dtype=np.int32),
                  "puzzle_identifiers": np.zeros(examples, dtype=np.int32)}
        for name, array in arrays.items():
            np.save(folder / f"all__{name}.npy", array)
        metadata = {"pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": vocab_size,
                    "seq_len": 81, "num_puzzle_identifiers": num_identifiers, "total_groups": examples,
                    "mean_puzzle_examples": 1, "sets": ["all"]}
        (folder / "dataset.json").write_text(json.dumps(metadata))
    (root / "identifiers.json").write_text(json.dumps(["<blank>"] + [f"p{i}" for i in range(1, num_identifiers)]))
    return root


def reference_model(num_identifiers=1, seed=0):
    """An HRM with the ARCH sizes for 9x9 Sudoku, its puzzle table and initial states made to look trained."""
    config = ModelConfig(vocab_size=11, seq_len=81, num_puzzle_identifiers=num_identifiers, puzzle_emb_dim=32,
                         hidden_size=32, num_heads=2, H_layers=1, L_layers=1, H_cycles=2, L_cycles=2,
                         halt_max_steps=4, halt_exploration_prob=0.1)
    torch.manual_seed(seed)
    model = build_hrm(config)
    with torch.no_grad():
        model.core.embedding.puzzle.weight.normal_()
        model.core.heads.q_head.weight.normal_()
        model.core.heads.q_head.bias.fill_(0.5)
        model.core.z_H0.copy_(model.core.z_H0.to(torch.bfloat16))  # what survives the reference's bf16 save
        model.core.z_L0.copy_(model.core.z_L0.to(torch.bfloat16))
    return model


def write_reference_checkpoint(folder, model, step=6, arch=ARCH, name=None):
    """A reference run's checkpoint folder: all_config.yaml (pretrain.py's PretrainConfig dump) and the
    compiled model's state dict (`_orig_mod.model.inner.*`, bf16 initial states)."""
    folder.mkdir(parents=True)
    config = {"arch": arch, "data_path": "data/sudoku-extreme-1k-aug-1000", "global_batch_size": 768,
              "epochs": 20000, "lr": 7e-5, "lr_min_ratio": 1.0, "lr_warmup_steps": 2000, "weight_decay": 1.0,
              "beta1": 0.9, "beta2": 0.95, "puzzle_emb_lr": 7e-5, "puzzle_emb_weight_decay": 1.0,
              "project_name": "Sudoku-extreme-1k-aug-1000 ACT-torch", "run_name": "HierarchicalReasoningModel",
              "checkpoint_path": str(folder), "seed": 0, "checkpoint_every_eval": True, "eval_interval": 2000,
              "eval_save_outputs": []}
    (folder / "all_config.yaml").write_text(yaml.dump(config))
    torch.save(reference_state_dict(model), folder / (name or f"step_{step}"))
    return folder


@pytest.fixture
def reference_pair(tmp_path):
    model = reference_model()
    return (write_reference_checkpoint(tmp_path / "ckpt", model), write_reference_sudoku(tmp_path / "data"), model)


def _evaluate(tmp_path, *arguments: str) -> int:
    return main([*arguments, "--out", str(tmp_path / "out")])


def _results(tmp_path) -> dict:
    return json.loads((tmp_path / "out" / "results.json").read_text())


def test_a_reference_checkpoint_scores_a_reference_dataset_as_the_model_itself_does(tmp_path, tracking_uri,
                                                                                    reference_pair):
    checkpoint, data, model = reference_pair
    assert _evaluate(tmp_path, "--checkpoint", str(checkpoint), "--data", str(data), "--batch-size", "5") == 0
    results = _results(tmp_path)
    (record,) = results["records"]
    task = get_task("sudoku", task_config("sudoku", {"size": 9, "dataset_dir": str(data)}))
    expected = evaluate_split(model, load_dataset(data / "test"), task, batch_size=7, halt_max_steps=4,
                              mode="fixed", device=torch.device("cpu"), per_segment=True)
    for name, value in expected.metrics.items():
        assert record["metrics"][name] == pytest.approx(value), name
    assert record["metrics"]["examples"] == 12 and record["params"]["halt_max_steps"] == 4
    assert [v for _, v in record["series"]["exact_by_segment"]] == pytest.approx(list(expected.segment_exact))
    assert len(record["series"]["token_by_segment"]) == 4 and "segments_histogram" not in record["series"]
    assert results["config"]["checkpoint"]["layout"] == "reference" and results["config"]["checkpoint"]["step"] == 6
    assert results["schema_version"] == 2 and "exact_accuracy" in results["metrics"]
    report = (tmp_path / "out" / "report.md").read_text()
    assert "95% interval" in report and "12 examples" in report and "segments-sudoku.png" in report
    assert (tmp_path / "out" / "segments-sudoku.png").is_file()


def test_act_mode_reports_the_segments_histogram_and_agrees_with_early_stopping(tmp_path, tracking_uri,
                                                                                reference_pair):
    checkpoint, data, model = reference_pair
    assert _evaluate(tmp_path, "--checkpoint", str(checkpoint / "step_6"), "--data", str(data / "test"),
                     "--mode", "act", "--max-segments", "3") == 0
    (record,) = _results(tmp_path)["records"]
    task = get_task("sudoku", task_config("sudoku", {"size": 9, "dataset_dir": str(data)}))
    stopped = evaluate_split(model, load_dataset(data / "test"), task, batch_size=4, halt_max_steps=3, mode="act",
                             device=torch.device("cpu"))
    histogram = dict(record["series"]["segments_histogram"])
    assert sum(histogram.values()) == 12 and sorted(histogram) == [1, 2, 3]
    assert histogram == {s: int(np.sum(stopped.segments == s)) for s in (1, 2, 3)}
    assert record["metrics"]["mean_segments"] == pytest.approx(stopped.metrics["mean_segments"])
    assert record["metrics"]["exact_accuracy"] == pytest.approx(stopped.metrics["exact_accuracy"])


def test_limit_keeps_whole_groups_and_says_so(tmp_path, tracking_uri, reference_pair):
    checkpoint, data, _ = reference_pair
    assert _evaluate(tmp_path, "--checkpoint", str(checkpoint), "--data", str(data), "--limit", "5") == 0
    results = _results(tmp_path)
    assert results["records"][0]["metrics"]["examples"] == 5
    assert results["config"]["data"] == {**results["config"]["data"], "examples": 5, "examples_in_split": 12}


def test_the_released_checkpoints_file_name_is_found(tmp_path, tracking_uri):
    checkpoint = write_reference_checkpoint(tmp_path / "released", reference_model(), name="checkpoint")
    data = write_reference_sudoku(tmp_path / "data")
    assert _evaluate(tmp_path, "--checkpoint", str(checkpoint), "--data", str(data)) == 0
    assert _results(tmp_path)["config"]["checkpoint"]["step"] is None


def test_the_latest_step_file_is_taken(tmp_path, tracking_uri):
    folder = write_reference_checkpoint(tmp_path / "ckpt", reference_model(), step=10)
    torch.save(reference_state_dict(reference_model(seed=1)), folder / "step_200")
    (folder / "step_200_all_preds.0").write_bytes(b"predictions, not a checkpoint")
    assert _evaluate(tmp_path, "--checkpoint", str(folder), "--data", str(write_reference_sudoku(tmp_path / "d"))) == 0
    assert _results(tmp_path)["config"]["checkpoint"]["step"] == 200


def test_a_checkpoint_of_this_suite_is_evaluated_on_its_own_task(tmp_path, tracking_uri, data_cache):
    from benchmarks.run import main as run_main

    assert run_main(["--suite", "accuracy", "--scale", "smoke", "--tasks", "sudoku", "--arms", "trm", "--seeds", "0",
                     "--out", str(tmp_path / "run"), "--set", f"train.cache_dir={data_cache}"]) == 0
    trained = json.loads((tmp_path / "run" / "results.json").read_text())["records"][0]
    case = tmp_path / "run" / "cases" / "accuracy-sudoku-trm-0"
    assert _evaluate(tmp_path, "--checkpoint", str(case)) == 0
    (record,) = _results(tmp_path)["records"]
    assert record["arm"] == "trm" and record["task"] == "sudoku"
    for name in ("exact_accuracy", "token_accuracy", "examples", "mean_segments"):
        assert record["metrics"][name] == pytest.approx(trained["metrics"][name]), name


# ------------------------------------------------------------------------------------------------ refusals


def _error(tmp_path, capsys, *arguments: str) -> str:
    assert _evaluate(tmp_path, *arguments) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1, error
    return error


def test_a_puzzle_table_that_does_not_match_the_datasets_identifiers_names_both_numbers(tmp_path, capsys):
    checkpoint = write_reference_checkpoint(tmp_path / "ckpt", reference_model(num_identifiers=7))
    data = write_reference_sudoku(tmp_path / "data", num_identifiers=3)
    error = _error(tmp_path, capsys, "--checkpoint", str(checkpoint), "--data", str(data))
    assert "7 rows" in error and "num_puzzle_identifiers 3" in error and "augmentations" in error


def test_a_dataset_with_another_vocabulary_is_refused_naming_the_shapes(tmp_path, capsys):
    checkpoint = write_reference_checkpoint(tmp_path / "ckpt", reference_model())
    data = write_reference_sudoku(tmp_path / "data", vocab_size=12)
    error = _error(tmp_path, capsys, "--checkpoint", str(checkpoint), "--data", str(data), "--task", "arc")
    assert "does not fit" in error and "(11, 32)" in error and "(12, 32)" in error


def test_a_checkpoint_of_another_size_is_refused(tmp_path, capsys):
    checkpoint = write_reference_checkpoint(tmp_path / "ckpt", reference_model(), arch={**ARCH, "hidden_size": 64})
    error = _error(tmp_path, capsys, "--checkpoint", str(checkpoint), "--data",
                   str(write_reference_sudoku(tmp_path / "data")))
    assert "does not fit" in error and "shape" in error


@pytest.mark.parametrize("damage, words", [
    ("no_yaml", "neither checkpoint.pt"),
    ("no_weights", "no weights"),
    ("no_arch", "no 'arch' section"),
    ("bad_yaml", "cannot read it as YAML"),
    ("truncated", "not a readable reference checkpoint"),
    ("missing", "does not exist"),
])
def test_a_damaged_checkpoint_folder_is_one_error(tmp_path, capsys, damage, words):
    folder = write_reference_checkpoint(tmp_path / "ckpt", reference_model())
    data = write_reference_sudoku(tmp_path / "data")
    if damage == "no_yaml":
        (folder / "all_config.yaml").unlink()
    elif damage == "no_weights":
        (folder / "step_6").unlink()
    elif damage == "no_arch":
        (folder / "all_config.yaml").write_text("lr: 1.0e-4\n")
    elif damage == "bad_yaml":
        (folder / "all_config.yaml").write_text("arch: [unclosed\n")
    elif damage == "truncated":
        (folder / "step_6").write_bytes((folder / "step_6").read_bytes()[:100])
    elif damage == "missing":
        folder = tmp_path / "nowhere"
    assert words in _error(tmp_path, capsys, "--checkpoint", str(folder), "--data", str(data))


def test_a_reference_checkpoint_needs_data(tmp_path, capsys, reference_pair):
    checkpoint, _, _ = reference_pair
    assert "--data is required" in _error(tmp_path, capsys, "--checkpoint", str(checkpoint))


def test_a_folder_several_tasks_fit_asks_for_the_task(tmp_path, capsys, reference_pair):
    checkpoint, data, _ = reference_pair
    for split in ("train", "test"):  # 4x4 boards and 4x4 mazes have the same vocabulary and length
        meta = json.loads((data / split / "dataset.json").read_text())
        (data / split / "dataset.json").write_text(json.dumps(meta | {"vocab_size": 6, "seq_len": 16}))
    error = _error(tmp_path, capsys, "--checkpoint", str(checkpoint), "--data", str(data))
    assert "tasks maze, sudoku all have" in error and "--task" in error


def test_a_split_folder_and_another_split_is_refused(tmp_path, capsys, reference_pair):
    checkpoint, data, _ = reference_pair
    error = _error(tmp_path, capsys, "--checkpoint", str(checkpoint), "--data", str(data / "test"), "--split", "train")
    assert "'test' split folder" in error


@pytest.mark.parametrize("flag, value", [("--limit", "-1"), ("--max-segments", "-2"), ("--batch-size", "0")])
def test_bad_numbers_are_one_error(tmp_path, capsys, reference_pair, flag, value):
    checkpoint, data, _ = reference_pair
    assert flag in _error(tmp_path, capsys, "--checkpoint", str(checkpoint), "--data", str(data), flag, value)


def test_an_arc_split_in_the_reference_layout_is_voted_with_its_own_identifier_map(tmp_path, tracking_uri):
    from tasks.dataset import save_dataset

    arc = get_task("arc", task_config("arc", {"canvas": 10, "augmentations": 2, "max_tasks": 8}))
    built = arc.build("test", seed=0)
    folder = save_dataset(built, tmp_path / "data" / "test")
    for extra in [*folder.glob("extra*"), folder / "identifiers.json"]:  # the reference writes neither extras
        if extra.name == "identifiers.json":
            extra.rename(tmp_path / "data" / "identifiers.json")  # ... and keeps the names beside the splits
        else:
            extra.unlink()
    identifiers = int(built.metadata["num_puzzle_identifiers"])
    config = ModelConfig(vocab_size=12, seq_len=100, num_puzzle_identifiers=identifiers, puzzle_emb_dim=32,
                         hidden_size=32, num_heads=2, H_layers=1, L_layers=1, H_cycles=1, L_cycles=1, halt_max_steps=2)
    torch.manual_seed(0)
    model = build_hrm(config)
    write_reference_checkpoint(tmp_path / "ckpt", model, arch={**ARCH, "halt_max_steps": 2, "H_cycles": 1,
                                                               "L_cycles": 1})
    assert _evaluate(tmp_path, "--checkpoint", str(tmp_path / "ckpt"), "--data", str(tmp_path / "data")) == 0
    (record,) = _results(tmp_path)["records"]
    reference_split = load_dataset(tmp_path / "data" / "test")
    assert "identifier_transform" not in reference_split.extra
    assert arc.score(reference_split, reference_split.labels)["reference:all_tests:pass@1"] == 1.0
    expected = evaluate_split(model, reference_split, arc, batch_size=16, halt_max_steps=2, mode="fixed",
                              device=torch.device("cpu"))
    with_our_map = arc.score(built, expected.predictions, expected.q_halt_logits)  # the map our build records
    for name in ("reference:all_tests:pass@1", "reference:per_test:pass@2", "test_tasks", "test_inputs"):
        assert record["metrics"][name] == pytest.approx(expected.metrics[name]) == pytest.approx(with_our_map[name])
    assert record["metrics"]["test_tasks"] == 3 == built.extra["task_sources"].count("evaluation")
    assert (tmp_path / "out" / "submission.json").is_file()


def test_the_evaluation_is_one_mlflow_run_with_its_settings_curves_and_files(tmp_path, tracking_uri, reference_pair):
    from mlflow.tracking import MlflowClient

    checkpoint, data, _ = reference_pair
    assert _evaluate(tmp_path, "--checkpoint", str(checkpoint), "--data", str(data)) == 0
    run_id = _results(tmp_path)["mlflow"]["parent_run_id"]
    client = MlflowClient(tracking_uri=tracking_uri)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.tags["suite"] == "evaluate"
    assert run.data.params["model.hidden_size"] == "32" and run.data.params["checkpoint.layout"] == "reference"
    assert [m.step for m in client.get_metric_history(run_id, "exact_by_segment")] == [1, 2, 3, 4]
    artifacts = {item.path for item in client.list_artifacts(run_id)}
    assert {"report.md", "results.json", "segments-sudoku.png"} <= artifacts
