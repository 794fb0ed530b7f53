"""Batched BFS, shortest-path sampling, the optimal-path check and dihedral transforms on maze grids."""

import numpy as np
import pytest
from maze_fixtures import ROOM, SNAKE, SNAKE_SOLVED, grid, plain_bfs, random_mazes

from tasks.maze.grid import (
    OPEN,
    PATH,
    START,
    WALL,
    bfs,
    dihedral,
    endpoints,
    inverse_dihedral,
    is_optimal,
    shortest_paths,
    trace_paths,
)


def test_bfs_distances_and_path_counts_match_a_plain_search():
    mazes = random_mazes(np.random.default_rng(0), 40, 7, 9)
    lengths, counts = shortest_paths(mazes)
    expected = [plain_bfs(maze) for maze in mazes]
    assert lengths.tolist() == [e[0] for e in expected]
    assert counts.tolist() == [e[1] for e in expected]
    assert (lengths < 0).any() and (counts > 1).any()  # the sample covers unreachable and multi-path cases


def test_bfs_marks_walls_and_unreached_cells_minus_one():
    maze = grid(["S#G"])
    distance, count = bfs(maze[None] != WALL, np.array([0]))
    assert distance[0].tolist() == [[0, -1, -1]] and count[0].tolist() == [[1.0, 0.0, 0.0]]


def test_shortest_path_counts_of_a_corridor_and_an_open_room():
    lengths, counts = shortest_paths(np.stack([grid(ROOM)]))
    assert (lengths[0], counts[0]) == (4, 6)
    lengths, counts = shortest_paths(np.stack([grid(SNAKE)]))
    assert (lengths[0], counts[0]) == (16, 1)


def _traced(mazes, seed=None):
    starts, goals = endpoints(mazes)
    distance, count = bfs(mazes != WALL, starts)
    return trace_paths(distance, count, goals, None if seed is None else np.random.default_rng(seed))


@pytest.mark.parametrize("seed", [None, 0], ids=["canonical", "uniform"])
def test_traced_paths_are_shortest_and_connected(seed):
    mazes = random_mazes(np.random.default_rng(1), 60, 8, 8, walls=0.25)
    lengths, _ = shortest_paths(mazes)
    mazes, lengths = mazes[lengths > 0], lengths[lengths > 0]
    solved = np.where(_traced(mazes, seed), PATH, mazes)
    assert is_optimal(mazes, solved, lengths).all()
    for maze, answer, length in zip(mazes, solved, lengths, strict=True):
        # independently: S, G and the path cells alone still connect S to G in `length` moves
        assert plain_bfs(np.where(answer == OPEN, WALL, answer))[0] == length
        assert (answer == PATH).sum() == length - 1
        assert (maze[answer == PATH] == OPEN).all()


def test_uniform_tracing_reaches_every_shortest_path_of_an_open_room():
    rooms = np.stack([grid(ROOM)] * 200)
    paths = {_traced(rooms[i:i + 1], seed=i)[0].tobytes() for i in range(200)}
    assert len(paths) == 6


def test_canonical_tracing_is_the_same_path_every_time():
    rooms = np.stack([grid(ROOM)] * 5)
    assert len({path.tobytes() for path in _traced(rooms)}) == 1
    canonical = np.where(_traced(rooms[:1])[0], PATH, grid(ROOM))
    np.testing.assert_array_equal(canonical, grid(["Soo", "  o", "  G"]))  # back from G: up first, then left


def test_snake_solution_is_optimal():
    assert is_optimal(grid(SNAKE)[None], grid(SNAKE_SOLVED)[None], np.array([16])).all()


def test_optimal_accepts_an_equally_short_alternative_path():
    room = grid(ROOM)
    along_top = grid(["Soo", "  o", "  G"])
    down_left = grid(["S  ", "o  ", "ooG"])
    zigzag = grid(["So ", " oo", "  G"])
    assert is_optimal(np.stack([room] * 3), np.stack([along_top, down_left, zigzag]), np.array([4, 4, 4])).all()


@pytest.mark.parametrize(
    "prediction",
    [
        ["Soo", "  o", " oG"],  # an extra dangling path cell
        ["S  ", "ooo", "ooG"],  # a longer connected path
        ["So ", "  o", "  G"],  # broken: the right count of cells, not connected
        ["S  ", "   ", "  G"],  # no path at all
        ["Soo", "  o", "# G"],  # a correct path, but a cell elsewhere changed
    ],
)
def test_optimal_rejects_longer_broken_or_altered_predictions(prediction):
    assert not is_optimal(grid(ROOM)[None], grid(prediction)[None], np.array([4]))[0]


def test_optimal_rejects_a_path_through_a_wall():
    maze = grid(["S#G", "   "])
    through_wall = grid(["SoG", "   "])
    assert not is_optimal(maze[None], through_wall[None], np.array([2]))[0]
    assert is_optimal(maze[None], grid(["S#G", "ooo"])[None], np.array([4]))[0]


def test_the_eight_dihedral_transforms_are_distinct_and_invertible():
    maze = np.arange(12).reshape(1, 3, 4)
    images = [dihedral(maze, t) for t in range(8)]
    assert len({(im.shape, im.tobytes()) for im in images}) == 8
    for t, image in enumerate(images):
        np.testing.assert_array_equal(inverse_dihedral(image, t), maze)


def test_dihedral_transforms_keep_solutions_optimal():
    maze, solved = grid(SNAKE)[None], grid(SNAKE_SOLVED)[None]
    for t in range(8):
        assert is_optimal(dihedral(maze, t), dihedral(solved, t), np.array([16]))[0]
        assert (dihedral(maze, t) == START).sum() == 1
