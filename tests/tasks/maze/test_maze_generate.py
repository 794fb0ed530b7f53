"""The obstacle-maze generator: path length threshold, optimal labels, uniqueness flag, determinism."""

import numpy as np
import pytest
from maze_fixtures import plain_bfs

from tasks.base import TaskError
from tasks.maze.bitset import pack, reach, unpack
from tasks.maze.generate import generate
from tasks.maze.grid import GOAL, OPEN, PATH, START, WALL, is_optimal


def _mazes(seed=0, count=30, size=(9, 11), min_path_length=14, **kwargs):
    return generate(np.random.default_rng(seed), count, *size, min_path_length, batch=256, **kwargs)


def test_generated_mazes_meet_the_minimum_and_their_labels_are_shortest_paths():
    mazes = _mazes()
    assert len(mazes.inputs) == 30 and mazes.inputs.shape[1:] == (9, 11)
    assert (mazes.lengths >= 14).all()
    assert is_optimal(mazes.inputs, mazes.labels, mazes.lengths).all()
    for maze, length in zip(mazes.inputs, mazes.lengths, strict=True):
        assert plain_bfs(maze)[0] == length
        assert (maze == START).sum() == 1 and (maze == GOAL).sum() == 1
        assert set(np.unique(maze)) <= {WALL, OPEN, START, GOAL}


def test_generated_labels_only_add_path_cells():
    mazes = _mazes()
    np.testing.assert_array_equal(np.where(mazes.labels == PATH, OPEN, mazes.labels), mazes.inputs)


def test_uniqueness_flag_matches_a_count_of_shortest_paths():
    mazes = _mazes(count=40, size=(6, 6), min_path_length=8, wall_fraction=(0.3, 0.5))
    counts = np.array([plain_bfs(maze)[1] for maze in mazes.inputs])
    np.testing.assert_array_equal(mazes.unique, counts == 1)
    assert mazes.unique.any() and not mazes.unique.all()


def test_same_seed_gives_the_same_mazes_and_another_seed_different_ones():
    first, again, other = _mazes(seed=5), _mazes(seed=5), _mazes(seed=6)
    np.testing.assert_array_equal(first.inputs, again.inputs)
    np.testing.assert_array_equal(first.labels, again.labels)
    assert not {m.tobytes() for m in first.inputs} & {m.tobytes() for m in other.inputs}


def test_generated_mazes_are_distinct_and_avoid_the_excluded_ones():
    excluded = _mazes(seed=1, count=60, size=(4, 4), min_path_length=4).inputs
    mazes = _mazes(seed=2, count=60, size=(4, 4), min_path_length=4, exclude=excluded)
    keys = [m.tobytes() for m in mazes.inputs]
    assert len(set(keys)) == len(keys)
    assert not set(keys) & {m.tobytes() for m in excluded}


def test_asking_for_more_distinct_mazes_than_exist_is_a_task_error():
    with pytest.raises(TaskError, match="found only"):
        generate(np.random.default_rng(0), 10_000, 2, 2, 1, batch=64, patience=5)


def test_an_unreachable_minimum_is_a_task_error_saying_what_to_change():
    with pytest.raises(TaskError, match="min_path_length"):
        generate(np.random.default_rng(0), 1, 3, 3, 50, batch=16, patience=3)


def test_bit_parallel_reach_finds_the_farthest_cells_across_word_boundaries():
    open_cells = np.ones((1, 2, 70), dtype=bool)
    open_cells[0, 1, :69] = False  # a corridor along row 0, then down at the far end
    assert np.array_equal(unpack(pack(open_cells), 70), open_cells)
    source = np.zeros_like(open_cells)
    source[0, 0, 0] = True
    found = reach(pack(open_cells), pack(source))
    assert found.eccentricity.tolist() == [70]
    assert np.argwhere(unpack(found.farthest, 70)[0]).tolist() == [[1, 69]]
    assert reach(pack(open_cells), pack(source), stop_at=10).eccentricity.tolist() == [10]
