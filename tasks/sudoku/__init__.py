"""Sudoku: exact solver and difficulty rating, generator, the paper's CSV format, augmentation, metrics."""

from tasks.sudoku.task import SudokuConfig, SudokuTask

__all__ = ["SudokuConfig", "SudokuTask"]
