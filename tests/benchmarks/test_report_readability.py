"""What makes figures and tables readable: one colour and marker per arm everywhere, no empty columns."""

from __future__ import annotations

from matplotlib.figure import Figure

from baselines.registry import ARMS
from benchmarks import plots
from benchmarks.record import Record


def test_every_registered_arm_has_its_own_colour_and_marker():
    styles = [plots.arm_style(arm) for arm in ARMS]
    assert len({style["color"] for style in styles}) == len(ARMS)
    assert len({style["marker"] for style in styles}) == len(ARMS)
    assert plots.arm_style("an-arm-added-later") == plots.arm_style("an-arm-added-later")


def test_two_arms_with_equal_values_are_drawn_as_two_distinct_lines(tmp_path, monkeypatch):
    drawn = []
    original = Figure.savefig

    def keep(figure, *args, **kwargs):
        drawn.extend(line for axis in figure.axes for line in axis.get_lines())
        return original(figure, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    records = [Record("memory", "sudoku", arm, None, {"saved_bytes": 1024.0 * k},
                      {"sweep": "L_cycles", "L_cycles": k, "loop": "T"}) for arm in ("hrm", "transformer-act")
               for k in (1, 2)]
    assert plots.memory_vs_inner_loop(records, "sudoku", tmp_path / "memory.png").is_file()
    hrm, act = drawn
    assert list(hrm.get_ydata()) == list(act.get_ydata())  # the same values ...
    assert (hrm.get_color(), hrm.get_marker(), hrm.get_linestyle()) != (act.get_color(), act.get_marker(),
                                                                        act.get_linestyle())  # ... told apart
    assert hrm.get_color() == plots.arm_style("hrm")["color"]


def test_a_report_table_leaves_out_a_column_without_any_value():
    from benchmarks.suite import markdown_table

    table = markdown_table([["hrm", "12", "-"], ["trm", "-", "-"]], ("arm", "cpu", "cuda"))
    assert "cuda" not in table and "cpu" in table and "trm" in table
    assert "arm" in markdown_table([["-", "-"]], ("arm", "value"))  # the first column always stays
