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


def _drawn_axes(monkeypatch) -> list:
    axes = []
    original = Figure.savefig

    def keep(figure, *args, **kwargs):
        axes.extend(figure.axes)
        return original(figure, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    return axes


def test_accuracy_against_the_budget_has_a_log2_axis_ticked_at_each_budget_and_a_y_axis_scaled_to_the_data(
        tmp_path, monkeypatch):
    axes = _drawn_axes(monkeypatch)
    records = [Record("act", "sudoku", "hrm", 0, {"exact_accuracy": 0.01 * budget},
                      {"mode": "fixed", "eval_halt_max_steps": budget, "halt_max_steps": 4}) for budget in (1, 2, 4, 8)]
    assert plots.accuracy_vs_budget(records, "sudoku", tmp_path / "budget.png").is_file()
    (axis,) = axes
    assert axis.get_xscale() == "log" and list(axis.get_xticks()) == [1, 2, 4, 8]
    assert [label.get_text() for label in axis.get_xticklabels()] == ["1", "2", "4", "8"]
    low, high = axis.get_ylim()
    assert low < 0 <= 0.08 < high < 0.2  # accuracies up to 0.08 are not squeezed into the bottom of a 0-1 axis


def test_memory_against_the_inner_loop_starts_at_zero_bytes_on_a_log2_axis(tmp_path, monkeypatch):
    axes = _drawn_axes(monkeypatch)
    records = [Record("memory", "sudoku", "hrm", None, {"saved_bytes": 5 * 2.0**20}, {"sweep": "L_cycles",
                                                                                      "L_cycles": k, "loop": "T"})
               for k in (1, 2, 4, 8)]
    plots.memory_vs_inner_loop(records, "sudoku", tmp_path / "memory.png")
    (axis,) = axes
    assert axis.get_ylim()[0] == 0 and axis.get_ylim()[1] > 5 and axis.get_xscale() == "log"


def _aggregate(arm: str, values: dict) -> Record:
    return Record("accuracy", "arc", arm, None, {**values, "seeds": 2.0, "examples": 48.0})


def test_accuracy_tables_fit_a_page_and_each_accuracy_has_its_interval():
    from benchmarks.suites import SUITES
    from tasks.metric import Metric

    names = ["exact_accuracy", "token_accuracy", *[f"pass_{k}" for k in range(6)]]
    metrics = {name: Metric.proportion(name) for name in names}
    metrics["examples"] = Metric.info("examples", "count")
    one_seed = Record("accuracy", "arc", "hrm", 0, {**dict.fromkeys(names, 0.25), "examples": 48.0})
    report = SUITES["accuracy"].report([one_seed], metrics)
    assert "**arc** (continued)" in report  # eight proportions: split over two tables
    assert max(len(line) for line in report.splitlines()) < 160
    assert "0.250 [0.149, 0.388]" in report  # one seed: the Wilson interval over its 48 test examples


def test_claims_are_one_narrow_table_with_a_legend_below(tmp_path):
    from benchmarks.suites import SUITES

    record = Record("claims", "sudoku", "hrm", None, {"effect": 0.1, "effect_low": 0.05, "effect_high": 0.15,
                                                      "claim_seeds": 3.0, "claim_examples": 200.0},
                    {"claim": "C3a"}, labels={"verdict": "supported", "statement": "the hierarchy beats a "
                                              "parameter-matched Transformer " * 2, "measure": "exact accuracy " * 5})
    report = SUITES["claims"].report([record], {})
    table = [line for line in report.splitlines() if line.startswith("|")]
    assert max(map(len, table)) < 100 and "- **C3a** the hierarchy" in report
