"""Small hand-made mazes and a plain breadth-first search the Maze tests check the vectorised code against."""

from collections import deque

import numpy as np

from tasks.maze.grid import CHARSET, GOAL, START, WALL

# One corridor from S to G: the shortest path (16 moves) is unique.
SNAKE = ["S    ", "#### ", "     ", " ####", "    G"]
SNAKE_SOLVED = ["Soooo", "####o", "ooooo", "o####", "ooooG"]
# An open 3x3 room: six shortest paths of 4 moves from corner to corner.
ROOM = ["S  ", "   ", "  G"]


def grid(rows: list[str]) -> np.ndarray:
    """Text rows in the paper's charset -> [H, W] token grid."""
    return np.array([[CHARSET.index(ch) + 1 for ch in row] for row in rows], dtype=np.int32)


def plain_bfs(maze: np.ndarray) -> tuple[int, int]:
    """(shortest S-to-G moves or -1, number of shortest paths) by a cell-at-a-time search."""
    height, width = maze.shape
    start = tuple(np.argwhere(maze == START)[0])
    goal = tuple(np.argwhere(maze == GOAL)[0])
    distance, count = {start: 0}, {start: 1}
    queue = deque([start])
    while queue:
        r, c = queue.popleft()
        for nr, nc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if 0 <= nr < height and 0 <= nc < width and maze[nr, nc] != WALL:
                if (nr, nc) not in distance:
                    distance[(nr, nc)] = distance[(r, c)] + 1
                    count[(nr, nc)] = 0
                    queue.append((nr, nc))
                if distance[(nr, nc)] == distance[(r, c)] + 1:
                    count[(nr, nc)] += count[(r, c)]
    return distance.get(goal, -1), count.get(goal, 0)


def random_mazes(rng: np.random.Generator, count: int, height: int, width: int, walls: float = 0.3) -> np.ndarray:
    """[count, H, W] random obstacle grids with S and G on distinct random cells (G may be unreachable)."""
    mazes = np.where(rng.random((count, height, width)) < walls, WALL, CHARSET.index(" ") + 1)
    for maze in mazes:
        cells = rng.choice(height * width, 2, replace=False)
        maze.flat[cells[0]], maze.flat[cells[1]] = START, GOAL
    return mazes.astype(np.int32)
