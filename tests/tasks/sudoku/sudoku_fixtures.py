"""Known 9x9 puzzles shared by the Sudoku tests (each has exactly one solution)."""

import numpy as np

HARD_PUZZLES = {
    "inkala_2012": "8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4..",
    "norvig_hardest": "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......",
    "easter_monster": "1.......2.9.4...5...6...7...5.9.3.......7.......85..4.7.....6...3...9.8...2.....1",
    "ai_escargot": "1....7.9..3..2...8..96..5....53..9...1..8...26....4...3......1..4......7..7...3..",
}
EASY_PUZZLE = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"
EASY_SOLUTION = "534678912672195348198342567859761423426853791713924856961537284287419635345286179"


def grid(text: str) -> np.ndarray:
    """An 81-character puzzle string ('.' or '0' blank) -> [9, 9] digit grid."""
    return np.array([0 if ch in ".0" else int(ch) for ch in text], dtype=np.int8).reshape(9, 9)
