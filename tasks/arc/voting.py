"""ARC evaluation: undo each prediction's augmentation, vote per test input, pass@k both ways, submission.json.

Every augmented version of a test input gets a prediction. Each prediction is cropped at its EOS markers
(reference crop), its colour permutation and dihedral transform are undone, and the resulting grids are
voted on per test input: ranked by how many versions predicted them, then by their mean halting
confidence, then by first appearance. pass@k counts a test input right when its target is among the top k.

Two scorings over the evaluation tasks:
- `all_tests` (the HRM reference's): a task counts only when every one of its test inputs is right;
- `per_test` (the official ARC Prize one): each test input earns 1 / (the task's test inputs).
All of it is vectorised over predictions; the answers are compared as canonical canvases (the de-augmented
grid re-rendered at the top-left), byte for byte.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tasks.arc.encoding import colours_of, crop_sizes, decode, render
from tasks.arc.transforms import inverse_colour_maps, inverse_dihedral
from tasks.base import TaskError
from tasks.dataset import PuzzleDataset, example_puzzles
from tasks.files import write_text_atomic

SCORINGS = ("all_tests", "per_test")


@dataclass(frozen=True)
class Votes:
    """Voting outcome over a test split.

    pair_task, pair_test: [pairs] task index (into extra["task_names"]) and test-pair index of each test input
    target:               [pairs] answer id of each test input's true output
    ranked:               [pairs, top] answer ids in rank order (-1 where fewer candidates)
    answers:              [answers, canvas * canvas] canonical canvas of each answer id
    """

    pair_task: np.ndarray
    pair_test: np.ndarray
    target: np.ndarray
    ranked: np.ndarray
    answers: np.ndarray


def canvas_side(dataset: PuzzleDataset) -> int:
    side = math.isqrt(dataset.metadata["seq_len"])
    if side * side != dataset.metadata["seq_len"]:
        raise TaskError(f"ARC seq_len {dataset.metadata['seq_len']} is not a square canvas")
    return side


def deaugment(tokens: np.ndarray, identifiers: np.ndarray, dataset: PuzzleDataset) -> tuple[np.ndarray, np.ndarray]:
    """(canonical canvases [n, seq_len] uint8, readable [n] bool) of predictions tokens [n, seq_len] made on
    puzzles with `identifiers` [n]: cropped at the top-left, colours and dihedral transform undone,
    re-rendered at the top-left. An unreadable prediction becomes the all-PAD canvas (an empty grid)."""
    side = canvas_side(dataset)
    grids = np.asarray(tokens).reshape(-1, side, side)
    heights, widths = crop_sizes(grids)
    transforms = inverse_dihedral(dataset.extra["identifier_transform"][identifiers].astype(np.int64))
    maps = inverse_colour_maps(dataset.extra["identifier_colours"][identifiers])
    canonical = render(colours_of(grids), heights, widths, transforms, maps)
    return canonical, heights > 0


def vote(
    dataset: PuzzleDataset, predictions: np.ndarray, confidences: np.ndarray | None = None,
    top: int = 2, vote_invalid: bool = True,
) -> Votes:
    """Rank candidate answers per test input of a test split.

    predictions: [examples, seq_len] token ids in dataset order; confidences: [examples] halting logits
    (None: all equal, so ties fall to first appearance). vote_invalid: an unreadable prediction still votes,
    for the empty grid, as in the reference (False drops it).
    """
    predictions = np.asarray(predictions)
    if predictions.shape != dataset.labels.shape:
        raise TaskError(f"predictions {predictions.shape} must match the split's labels {dataset.labels.shape}")
    confidences = np.zeros(len(predictions)) if confidences is None else np.asarray(confidences, dtype=np.float64)
    if confidences.shape != (len(predictions),):
        raise TaskError(f"confidences {confidences.shape} must be [examples] = ({len(predictions)},)")
    rows = np.flatnonzero(dataset.extra["example_test_index"] >= 0)
    if len(rows) == 0:
        raise TaskError("ARC voting needs test pairs; this split has none (score the test split)")
    identifiers = dataset.puzzle_identifiers[example_puzzles(dataset)[rows]]
    tasks = dataset.extra["identifier_task"][identifiers].astype(np.int64)
    tests = dataset.extra["example_test_index"][rows].astype(np.int64)
    width = int(tests.max()) + 1
    pair_keys, pair = np.unique(tasks * width + tests, return_inverse=True)
    guesses, readable = deaugment(predictions[rows], identifiers, dataset)
    first_rows = np.unique(pair, return_index=True)[1]  # every version's target undoes to the same grid
    truths, _ = deaugment(dataset.labels[rows[first_rows]], identifiers[first_rows], dataset)
    stacked = np.concatenate([guesses, truths])
    unique_rows, answer = np.unique(stacked.view(np.dtype((np.void, stacked.shape[1]))).ravel(), return_inverse=True)
    guess, target = answer[: len(rows)], answer[len(rows):]
    voters = readable | vote_invalid
    answers_n = len(unique_rows)
    keys, first, candidate, counts = np.unique(pair[voters] * answers_n + guess[voters],
                                               return_index=True, return_inverse=True, return_counts=True)
    mean = np.bincount(candidate, weights=confidences[rows][voters], minlength=len(keys)) / counts
    order = np.lexsort((first, -mean, -counts, keys // answers_n))
    owner = keys[order] // answers_n
    rank = np.arange(len(order)) - np.searchsorted(owner, owner)
    ranked = np.full((len(pair_keys), top), -1, dtype=np.int64)
    within = rank < top
    ranked[owner[within], rank[within]] = keys[order][within] % answers_n
    return Votes(pair_keys // width, pair_keys % width, target, ranked,
                 np.frombuffer(unique_rows.tobytes(), dtype=np.uint8).reshape(answers_n, -1))


def pass_at_k(votes: Votes, k: int) -> dict[str, float]:
    """{"all_tests": ..., "per_test": ...}: pass@k over the tasks present in `votes` under both scorings."""
    right = (votes.ranked[:, :k] == votes.target[:, None]).any(axis=1)
    tasks, owner = np.unique(votes.pair_task, return_inverse=True)
    inputs = np.bincount(owner, minlength=len(tasks))
    solved = np.bincount(owner, weights=right, minlength=len(tasks))
    return {"all_tests": float(np.mean(solved == inputs)), "per_test": float(np.mean(solved / inputs))}


def canvas_accuracy(dataset: PuzzleDataset, predictions: np.ndarray) -> dict[str, float]:
    """Token accuracy over supervised label cells and exact accuracy per example, on the raw canvases
    (labels equal to the stored ignore_label_id, i.e. PAD, are not supervised), with the examples and
    supervised tokens they are over."""
    supervised = dataset.labels != dataset.metadata["ignore_label_id"]
    same = np.asarray(predictions) == dataset.labels
    return {
        "token_accuracy": float((same & supervised).sum() / max(supervised.sum(), 1)),
        "exact_accuracy": float(np.mean((same | ~supervised).all(axis=1))),
        "examples": float(len(same)),
        "tokens": float(supervised.sum()),
    }


def submission(dataset: PuzzleDataset, votes: Votes) -> dict[str, list[dict[str, list[list[int]]]]]:
    """Kaggle-style answers: {task name: [{"attempt_1": grid, "attempt_2": grid} per test input, in order]}.
    A missing second candidate repeats the first; no candidate, or the empty grid, is sent as [[0]]."""
    side = canvas_side(dataset)
    names = dataset.extra["task_names"]
    out: dict[str, list] = {}
    for task, test, ranked in zip(votes.pair_task.tolist(), votes.pair_test.tolist(), votes.ranked, strict=True):
        grids = [decode(votes.answers[a], side, find_origin=False).tolist() or [[0]] for a in ranked if a >= 0]
        grids = grids or [[[0]]]
        grids += grids[-1:] * (2 - len(grids))
        attempts = out.setdefault(names[task], [])
        attempts += [None] * (test + 1 - len(attempts))
        attempts[test] = {"attempt_1": grids[0], "attempt_2": grids[1]}
    return out


def write_submission(path: Path, dataset: PuzzleDataset, votes: Votes) -> Path:
    """Write `submission(dataset, votes)` as JSON to `path`; returns the path."""
    return write_text_atomic(path, json.dumps(submission(dataset, votes)))
