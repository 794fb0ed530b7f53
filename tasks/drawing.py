"""Shared matplotlib drawing of token grids (PNG files); each task passes its own palette.

`draw_grids` draws side-by-side panels (e.g. input / target / prediction) with wrong cells outlined;
`draw_strip` draws the prediction after each segment, to show how a model's answer evolves.

Figures are `matplotlib.figure.Figure` objects saved directly, never through pyplot: saving a PNG needs no
backend, so importing or drawing leaves the caller's backend (a notebook's, say) and pyplot's figures alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from tasks.base import TaskError
from tasks.files import save_figure_atomic

Panel = tuple[str, np.ndarray] | tuple[str, np.ndarray, np.ndarray | None]  # (title, grid [H, W], wrong [H, W])


def draw_grids(
    path: Path,
    panels: Sequence[Panel],
    colors: Sequence[str],
    *,
    cell_text: Sequence[str] | None = None,
    error_mask: np.ndarray | None = None,
    columns: int | None = None,
    title: str | None = None,
    cell_inches: float = 0.18,
) -> Path:
    """Write a PNG of `panels` to `path` and return `path`.

    panels:     (title, grid) or (title, grid, wrong) with grid [H, W] token ids and wrong [H, W] bool;
                wrong cells get a red outline.
    colors:     colour of each token id (index = token).
    cell_text:  optional text drawn in each cell, per token id ("" for none), e.g. Sudoku digits.
    error_mask: wrong cells of the last panel (shorthand for a third element on it).
    columns:    panels per row (default: all in one row).
    """
    if not panels:
        raise TaskError("draw_grids: no panels")
    panels = [(p[0], np.asarray(p[1])) + tuple(p[2:]) + (None,) * (3 - len(p)) for p in panels]
    for name, grid, _ in panels:
        if grid.ndim != 2:
            raise TaskError(f"draw_grids: panel {name!r} must be a 2-D grid, got shape {grid.shape}")
    if error_mask is not None:
        panels[-1] = panels[-1][:2] + (np.asarray(error_mask, dtype=bool),)
    columns = columns or len(panels)
    rows = -(-len(panels) // columns)
    height = max(p[1].shape[0] for p in panels)
    width = max(p[1].shape[1] for p in panels)
    figure = Figure(figsize=(columns * max(width * cell_inches, 1.5), rows * (max(height * cell_inches, 1.5) + 0.4)))
    axes = figure.subplots(rows, columns, squeeze=False)
    cmap = ListedColormap(list(colors))
    for ax in axes.flat:
        ax.axis("off")
    for ax, (name, grid, wrong) in zip(axes.flat, panels, strict=False):
        _draw_panel(ax, grid, wrong, cmap, len(colors), cell_text)
        ax.set_title(name, fontsize=9)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout(rect=(0, 0, 1, 0.93) if title else None)
    return save_figure_atomic(figure, path, dpi=100)


def draw_strip(
    path: Path,
    input_grid: np.ndarray,
    frames: np.ndarray,
    colors: Sequence[str],
    *,
    target: np.ndarray | None = None,
    cell_text: Sequence[str] | None = None,
    columns: int = 8,
    title: str | None = None,
) -> Path:
    """PNG of the input then the prediction after each segment (frames [segments, H, W]); with `target`,
    each frame's cells that differ from it are outlined."""
    panels: list[Panel] = [("input", input_grid, None)]
    for index, frame in enumerate(np.asarray(frames)):
        wrong = None if target is None else frame != np.asarray(target)
        panels.append((f"segment {index + 1}", frame, wrong))
    return draw_grids(path, panels, colors, cell_text=cell_text, columns=min(columns, len(panels)), title=title)


def _draw_panel(ax, grid: np.ndarray, wrong, cmap, tokens: int, cell_text) -> None:
    ax.imshow(grid, cmap=cmap, vmin=-0.5, vmax=tokens - 0.5, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.axis("on")
    if cell_text is not None:
        size = max(4.0, 60.0 / max(grid.shape))
        for (r, c), token in np.ndenumerate(grid):
            if 0 <= token < len(cell_text) and cell_text[token]:
                ax.text(c, r, cell_text[token], ha="center", va="center", fontsize=size)
    if wrong is not None:
        for r, c in np.argwhere(wrong):
            ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=1.5))
