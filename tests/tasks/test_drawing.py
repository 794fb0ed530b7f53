"""Shared grid drawing: PNG files of panels and of per-segment strips."""

import subprocess
import sys

import numpy as np
import pytest
from matplotlib import image

from tasks.base import TaskError
from tasks.drawing import draw_grids, draw_strip

COLORS = ("#ffffff", "#000000", "#ff0000")
PNG = b"\x89PNG\r\n\x1a\n"


def test_draw_grids_writes_a_png_with_one_panel_per_grid(tmp_path):
    grid = np.array([[0, 1], [2, 1]])
    one = draw_grids(tmp_path / "one.png", [("a", grid)], COLORS)
    three = draw_grids(tmp_path / "sub" / "three.png", [("a", grid), ("b", grid), ("c", grid, grid == 2)], COLORS,
                       cell_text=["", "x", "y"], error_mask=grid == 1, title="t")
    assert one.read_bytes()[:8] == PNG and three.read_bytes()[:8] == PNG
    assert image.imread(three).shape[1] > 2 * image.imread(one).shape[1]  # panels side by side


def test_draw_strip_wraps_segments_into_rows(tmp_path):
    frames = np.zeros((5, 3, 3), dtype=int)
    wide = draw_strip(tmp_path / "wide.png", frames[0], frames, COLORS, columns=6)
    wrapped = draw_strip(tmp_path / "wrapped.png", frames[0], frames, COLORS, target=frames[0], columns=3)
    assert image.imread(wrapped).shape[0] > image.imread(wide).shape[0]


@pytest.mark.parametrize("panels, message", [([], "no panels"), ([("a", np.zeros(4, dtype=int))], "2-D")])
def test_bad_panels_are_a_task_error(tmp_path, panels, message):
    with pytest.raises(TaskError, match=message):
        draw_grids(tmp_path / "x.png", panels, COLORS)


def test_importing_and_drawing_leave_the_callers_matplotlib_backend_alone(tmp_path):
    script = f"""
import matplotlib
matplotlib.use("svg")
import numpy as np
import tasks.drawing, tasks.registry
tasks.drawing.draw_grids({str(tmp_path / "a.png")!r}, [("a", np.zeros((2, 2), dtype=int))], ["#ffffff"])
import matplotlib.pyplot as plt
assert matplotlib.get_backend() == "svg", matplotlib.get_backend()
assert plt.get_fignums() == [], plt.get_fignums()
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "a.png").read_bytes()[:8] == PNG
