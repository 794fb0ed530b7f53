"""The one suite interface: what the runner, the settings and the report need from a suite.

A suite is one module with one `Suite` subclass and one line in `benchmarks.suites.SUITES`:

    class LatencySuite(Suite):
        name, title = "latency", "Latency"
        settings_class = LatencyConfig               # its settings: `--set latency.<field>=...`
        scales = {"smoke": {"latency.repeats": 2}}   # its own size at each scale
        def run(self, ctx): yield Record(...)        # records as they finish
        def metrics(self, tasks): return [Metric.rate("calls_per_s")]
        def work(self, ctx, costs): return [Work(("latency", task), costs.step_s(...)) for task in ctx.tasks]

`work` declares the suite's items before the run starts (their estimated seconds, from the run's
`benchmarks.estimate.CostModel`) and `run` reports them done through `ctx.progress`, so one bar with an ETA
covers every suite of the run and `--dry-run` can total them.

`--suite` choices, the settings sections, the report's sections and its figures come from the registry, so
the runner never names a suite. `report` defaults to one table of every record with its params and the
declared metrics; a suite overrides it (and `figures`) to show its results better.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tabulate import tabulate

from benchmarks.record import Record
from tasks.base import Task
from tasks.metric import Metric

if TYPE_CHECKING:
    from benchmarks.context import SuiteContext
    from benchmarks.estimate import CostModel
    from benchmarks.progress import Work


class Suite(abc.ABC):
    """Base class of every suite (see the module docstring)."""

    name: ClassVar[str]
    title: ClassVar[str]  # the report section's heading
    note: ClassVar[str] = ""  # what the section's numbers mean, printed above them
    settings_class: ClassVar[type | None] = None  # a dataclass; None: the suite has no settings of its own
    scales: ClassVar[Mapping[str, Mapping[str, Any]]] = {}  # scale -> {"<name>.<field>": value}
    leads_report: ClassVar[bool] = False  # its section comes first in report.md and the console summary

    @abc.abstractmethod
    def run(self, ctx: SuiteContext) -> Iterator[Record]:
        """Measure and yield each record as soon as it is final (an interrupted run keeps those)."""

    @abc.abstractmethod
    def metrics(self, tasks: Sequence[Task]) -> list[Metric]:
        """Declarations of every metric this suite's records carry for `tasks` (the run's task objects)."""

    def work(self, ctx: SuiteContext, costs: CostModel) -> list[Work]:
        """The items `run` will report done through `ctx.progress`, with estimated seconds; none by default
        (a suite without them still runs, it just adds nothing to the bar or the estimate)."""
        return []

    def report(self, records: list[Record], metrics: Mapping[str, Metric]) -> str:
        """The report section's Markdown (below its title and note): by default one table of all records."""
        names = [name for name in metrics if any(name in record.metrics for record in records)]
        names += sorted({name for record in records for name in record.metrics} - set(names))
        rows = []
        for record in records:
            params = ", ".join(f"{key}={value}" for key, value in record.params.items())
            seed = "mean" if record.seed is None else str(record.seed)
            if record.diverged:
                cells = [record.diverged_text(), *["-"] * (len(names) - 1)] if names else []
            else:
                cells = [format_metric(metrics, name, record.metrics.get(name)) for name in names]
            rows.append([record.task, record.arm, seed, params, *cells])
        return markdown_table(rows, ["task", "arm", "seed", "params", *names])

    def figures(self, records: list[Record], directory: Path) -> list[tuple[str, Path]]:
        """(caption, PNG) figures drawn from `records` into `directory`; none by default."""
        return []

    def summary(self, records: list[Record], metrics: Mapping[str, Metric]) -> list[str]:
        """Lines for the console summary at the end of a run; none by default."""
        return []


Drawing = tuple[str, Callable[[list[Record], str, Path], Path | None], str]  # (caption, draw, file stem)


def task_figures(records: list[Record], directory: Path, drawings: Sequence[Drawing]) -> list[tuple[str, Path]]:
    """Each drawing for each task of `records`, as `<stem>-<task>.png` in `directory`; a drawing that finds
    nothing to draw for a task (it returns None) is left out."""
    figures = []
    for task in dict.fromkeys(record.task for record in records):
        for caption, draw, stem in drawings:
            path = draw(records, task, directory / f"{stem}-{task}.png")
            if path is not None:
                figures.append((f"{task}: {caption}", path))
    return figures


def format_metric(metrics: Mapping[str, Metric], name: str, value: float | None) -> str:
    """`value` formatted by its declaration (an undeclared metric to 4 significant digits)."""
    if name in metrics:
        return metrics[name].format(value)
    return "-" if value is None else f"{value:.4g}"


EMPTY_CELLS = ("", "-")  # what a table shows where a value does not exist


def markdown_table(rows: list[list[Any]], headers: Sequence[str]) -> str:
    """A GitHub-Markdown table; cells are already formatted strings, so tabulate must not re-parse them.
    A column with no value in any row (a CUDA column of a CPU run) is left out; the first column stays."""
    keep = [index for index in range(len(headers))
            if index == 0 or not rows or any(str(row[index]) not in EMPTY_CELLS for row in rows)]
    return tabulate([[row[index] for index in keep] for row in rows], headers=[headers[index] for index in keep],
                    tablefmt="github", disable_numparse=True)
