import numpy as np
import pytest
from arc_fixtures import write_tasks

from tasks.arc import ARCConfig, ARCTask
from tasks.base import TaskError


@pytest.mark.parametrize("field, value", [("dataset", "arc-agi-3"), ("protocol", "loose"), ("canvas", 31),
                                          ("canvas", 0), ("augmentations", -1), ("augment_retries", 0),
                                          ("max_tasks", -2), ("malformed", "ignore")])
def test_config_rejects_a_bad_value_naming_the_field(field, value):
    with pytest.raises(TaskError, match=f"ARCConfig.{field}"):
        ARCConfig(**{field: value})


def test_defaults_are_the_paper_scale():
    task = ARCTask()
    assert (task.config.canvas, task.config.augmentations, task.config.protocol) == (30, 1000, "reference")
    assert (task.vocab_size, task.seq_len) == (12, 900)


def test_registry_resolves_arc_with_command_line_overrides():
    from tasks.registry import get_task, task_config

    config = task_config("arc", {"canvas": "12", "protocol": "strict", "translate": "false"})
    assert (config.canvas, config.protocol, config.translate) == (12, "strict", False)
    assert isinstance(get_task("arc", config), ARCTask)


@pytest.fixture
def small(tmp_path):
    return ARCTask(ARCConfig(data_dir=str(write_tasks(tmp_path / "tasks")), augmentations=2, canvas=8))


def test_decode_reads_a_translated_training_example(small):
    train = small.build("train")
    grid = small.decode(train.labels[1])
    assert grid.ndim == 2 and grid.size > 0 and grid.max() <= 9


def test_drawings_are_written_as_png(small, tmp_path):
    test = small.build("test")
    prediction = test.labels[0].copy()
    prediction[0] = 5
    paths = [
        small.draw(tmp_path / "example.png", test.inputs[0], test.labels[0], prediction),
        small.draw(tmp_path / "unreadable.png", test.inputs[0], test.labels[0], np.zeros_like(prediction)),
        small.draw_segments(tmp_path / "segments.png", test.inputs[0], np.stack([prediction, test.labels[0]])),
        small.draw_task(tmp_path / "task.png", small.load_tasks().tasks[2],
                        [small.decode(prediction), np.zeros((0, 0), dtype=np.uint8)]),
    ]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_cached_test_split_keeps_its_augmentation_map_and_scores(small, tmp_path):
    test = small.build("test", cache_dir=tmp_path / "cache")
    assert test.extra["protocol"] == "reference" and test.extra["identifier_colours"].shape[1] == 10
    scores = small.score(test, test.labels, np.zeros(len(test.labels)))
    assert scores["reference:all_tests:pass@1"] == scores["exact_accuracy"] == 1.0
