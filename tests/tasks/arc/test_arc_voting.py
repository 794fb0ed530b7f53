import dataclasses
import json

import numpy as np
import pytest
from arc_fixtures import EVALUATION_TASKS, write_tasks

from tasks.arc import ARCConfig, ARCTask
from tasks.arc.augment import stack_grids
from tasks.arc.encoding import PAD, render
from tasks.arc.voting import canvas_accuracy, pass_at_k, submission, vote
from tasks.dataset import example_puzzles

CANVAS = 10
TRANSFORMS = np.array([0, 1, 3, 6, 2], dtype=np.int8)  # rot90 and rot270 are not their own inverses
MAPS = np.array([list(range(10)), [0, 2, 3, 4, 5, 6, 7, 8, 9, 1], [0, 9, 8, 7, 6, 5, 4, 3, 2, 1],
                 list(range(10)), [0, 5, 1, 6, 2, 7, 3, 8, 4, 9]], dtype=np.uint8)
UNREADABLE = np.full(CANVAS * CANVAS, PAD, dtype=np.int32)


@pytest.fixture
def task_and_test(tmp_path, monkeypatch):
    """A test split whose 5 versions per task use TRANSFORMS and MAPS, in that order."""
    monkeypatch.setattr("tasks.arc.build.plan_augmentations", lambda task, count, seed, retries: (TRANSFORMS, MAPS))
    task = ARCTask(ARCConfig(data_dir=str(write_tasks(tmp_path)), augmentations=4, canvas=CANVAS))
    return task, task.build("test")


def truth(name: str, test_index: int) -> np.ndarray:
    return np.array(EVALUATION_TASKS[name]["test"][test_index]["output"], dtype=np.uint8)


def augmented(grid: np.ndarray, version: int) -> np.ndarray:
    """The canvas [CANVAS**2] of `grid` under version `version`'s transform and colours."""
    grids, heights, widths = stack_grids([grid], CANVAS)
    return render(grids, heights, widths, TRANSFORMS[[version]], MAPS[[version]])[0]


def predictions(test, answer) -> tuple[np.ndarray, np.ndarray]:
    """(tokens, versions) of every test example: answer(task name, test index, version) gives the grid that
    version predicts before augmentation (it is augmented here like the version's input) or a raw canvas."""
    identifiers = test.puzzle_identifiers[example_puzzles(test)]
    transforms = test.extra["identifier_transform"][identifiers]
    versions = np.array([int(np.flatnonzero(TRANSFORMS == t)[0]) for t in transforms])
    tokens = np.empty_like(test.labels)
    for row, (identifier, k, version) in enumerate(zip(identifiers, test.extra["example_test_index"], versions,
                                                       strict=True)):
        guess = answer(test.extra["task_names"][test.extra["identifier_task"][identifier]], int(k), version)
        tokens[row] = guess if guess.ndim == 1 else augmented(guess, version)
    return tokens, versions


def wrong(grid: np.ndarray) -> np.ndarray:
    changed = grid.copy()
    changed[0, 0] = (changed[0, 0] + 1) % 10
    return changed


def pair_row(votes, test, name: str, test_index: int) -> int:
    task = test.extra["task_names"].index(name)
    return int(np.flatnonzero((votes.pair_task == task) & (votes.pair_test == test_index))[0])


def test_vote_undoes_each_augmentation_so_the_true_majority_wins(task_and_test):
    _, test = task_and_test
    raw_x = augmented(truth("eee00002", 0), 1)

    def answer(name, k, version):
        # Versions 0 and 4 send the very canvas that is version 1's right answer: counted raw, that canvas
        # would win 3 to 1; undone correctly it is right once and wrong twice, and the truth wins 3 to 1.
        return raw_x if name == "eee00002" and version in (0, 4) else truth(name, k)

    tokens, _ = predictions(test, answer)
    votes = vote(test, tokens)
    row = pair_row(votes, test, "eee00002", 0)
    assert votes.ranked[row, 0] == votes.target[row]
    np.testing.assert_array_equal(votes.answers[votes.ranked[row, 0]], augmented(truth("eee00002", 0), 0))
    assert pass_at_k(votes, 1) == {"all_tests": 1.0, "per_test": 1.0}


def test_equal_counts_are_ranked_by_mean_halting_confidence(task_and_test):
    _, test = task_and_test

    def answer(name, k, version):
        if version == 4:
            return UNREADABLE
        return wrong(truth(name, k)) if version in (2, 3) else truth(name, k)

    tokens, versions = predictions(test, answer)
    confident_wrong = np.where(np.isin(versions, (2, 3)), 0.9, 0.1)
    votes = vote(test, tokens, confident_wrong, vote_invalid=False)
    assert pass_at_k(votes, 1)["per_test"] == 0.0 and pass_at_k(votes, 2)["per_test"] == 1.0
    votes = vote(test, tokens, 1.0 - confident_wrong, vote_invalid=False)
    assert pass_at_k(votes, 1)["per_test"] == 1.0


def test_unreadable_predictions_vote_for_the_empty_grid_unless_disabled(task_and_test):
    _, test = task_and_test
    tokens, versions = predictions(test, lambda name, k, v: UNREADABLE if v < 3 else truth(name, k))
    assert pass_at_k(vote(test, tokens), 1)["per_test"] == 0.0
    assert pass_at_k(vote(test, tokens), 2)["per_test"] == 1.0
    assert pass_at_k(vote(test, tokens, vote_invalid=False), 1)["per_test"] == 1.0


def test_all_tests_scoring_needs_every_test_input_and_per_test_gives_fractions(task_and_test):
    _, test = task_and_test

    def answer(name, k, version):  # eee00001: test input 0 right, input 1 right only as second choice
        if (name, k) == ("eee00001", 1) and version < 3:
            return wrong(truth(name, k))
        return truth(name, k)

    votes = vote(test, predictions(test, answer)[0])
    assert pass_at_k(votes, 1) == {"all_tests": 0.5, "per_test": 0.75}
    assert pass_at_k(votes, 2) == {"all_tests": 1.0, "per_test": 1.0}


def test_score_names_the_protocol_and_reports_raw_canvas_accuracy(task_and_test):
    task, test = task_and_test
    tokens = test.labels.copy()
    tokens[0, 0] = 11 if tokens[0, 0] != 11 else 10  # one wrong supervised cell
    scores = task.score(test, tokens)
    supervised = np.count_nonzero(test.labels != PAD)
    assert scores["token_accuracy"] == pytest.approx(1 - 1 / supervised)
    assert scores["exact_accuracy"] == pytest.approx(1 - 1 / len(tokens))
    assert scores["reference:all_tests:pass@1"] == scores["reference:per_test:pass@2"] == 1.0
    assert set(scores) == {"token_accuracy", "exact_accuracy", "examples", "tokens", "test_inputs", "test_tasks"} | {
        f"reference:{s}:pass@{k}" for k in (1, 2) for s in ("all_tests", "per_test")}
    assert (scores["examples"], scores["tokens"]) == (len(tokens), supervised)
    assert scores["test_tasks"] == len(EVALUATION_TASKS)
    assert scores["test_inputs"] == sum(len(task["test"]) for task in EVALUATION_TASKS.values())
    assert canvas_accuracy(test, test.labels) == {"token_accuracy": 1.0, "exact_accuracy": 1.0,
                                                  "examples": len(tokens), "tokens": supervised}


def test_submission_lists_two_attempts_per_test_input_in_order(task_and_test, tmp_path):
    task, test = task_and_test
    tokens, _ = predictions(test, lambda name, k, v: wrong(truth(name, k)) if v < 2 else truth(name, k))
    expected = {name: [{"attempt_1": truth(name, k).tolist(), "attempt_2": wrong(truth(name, k)).tolist()}
                       for k in range(len(EVALUATION_TASKS[name]["test"]))] for name in EVALUATION_TASKS}
    assert submission(test, vote(test, tokens)) == expected
    path = task.write_submission(tmp_path / "out" / "submission.json", test, tokens)
    assert json.loads(path.read_text()) == expected


def test_a_single_candidate_fills_both_attempts(task_and_test):
    _, test = task_and_test
    tokens, _ = predictions(test, lambda name, k, v: truth(name, k))
    answers = submission(test, vote(test, tokens))["eee00002"][0]
    assert answers["attempt_1"] == answers["attempt_2"] == truth("eee00002", 0).tolist()


def test_predictions_of_the_wrong_shape_are_rejected(task_and_test):
    _, test = task_and_test
    with pytest.raises(ValueError, match="predictions"):
        vote(test, test.labels[:-1])
    with pytest.raises(ValueError, match="confidences"):
        vote(test, test.labels, np.zeros(3))


def test_a_reference_built_test_split_is_scored_from_its_identifier_names(task_and_test, tmp_path):
    task, test = task_and_test
    tokens, _ = predictions(test, lambda name, k, v: wrong(truth(name, k)) if v in (0, 4) else truth(name, k))
    reference_built = dataclasses.replace(test, extra={})  # the reference's builder writes no map
    assert task.score(reference_built, tokens) == task.score(test, tokens)
    path = task.write_submission(tmp_path / "s.json", reference_built, tokens)
    assert json.loads(path.read_text()) == submission(test, vote(test, tokens))
