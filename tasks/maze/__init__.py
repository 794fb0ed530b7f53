"""Maze: shortest S-to-G paths through obstacle grids (the paper's Maze-Hard), generated or read from CSV."""

from tasks.maze.task import MazeConfig, MazeTask

__all__ = ["MazeConfig", "MazeTask"]
