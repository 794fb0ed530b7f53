"""`report.md`: a results document as Markdown, one section per suite (its own table and figures); and
`report.html`, the same page with its figures inside it, for MLflow's artifact viewer (which shows Markdown as
plain text and cannot follow a relative image link).

Everything comes from results.json alone (records and metric declarations), so a report can be rewritten
from a results file; each section is drawn by its suite (`benchmarks.suites.SUITES`), and a suite that is not
registered here gets the generic table of `benchmarks.suite.Suite.report`.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.record import Record
from benchmarks.suite import Suite, markdown_table
from tasks.files import write_text_atomic
from tasks.metric import Metric

REPORT_FILE = "report.md"
HTML_FILE = "report.html"
_STYLE = ("body{font-family:sans-serif;max-width:70em;margin:1em auto;padding:0 1em}"
          "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;padding:2px 6px}"
          "img{max-width:100%}")


class _Unregistered(Suite):
    """A suite of the results file that this installation does not register: shown as the generic table."""

    def __init__(self, name: str) -> None:
        self.name, self.title = name, name

    def run(self, ctx) -> Iterator[Record]:
        raise NotImplementedError(f"suite {self.name!r} is not registered")

    def metrics(self, tasks) -> list[Metric]:
        return []


def write_report(results: dict[str, Any], directory: Path, images: list[tuple[str, Path]] = ()) -> Path:
    """Write `directory/report.md` (and its PNGs) from a results document; returns the report's path."""
    from benchmarks.suites import SUITES

    records = [Record.from_dict(record) for record in results["records"]]
    metrics = {name: Metric.from_dict(values) for name, values in results.get("metrics", {}).items()}
    lines = [f"# Benchmark report: {results['run_name']}", "", _provenance(results), ""]
    if results.get("data_notes"):
        lines += ["## Data", "", "Where the data came from and what its builds left out:", "",
                  *[f"- {note}" for note in results["data_notes"]], ""]
    figures: list[tuple[str, Path]] = []
    order = sorted(results["suites"], key=lambda name: not getattr(SUITES.get(name), "leads_report", False))
    for name in order:
        suite = SUITES.get(name) or _Unregistered(name)
        section = [record for record in records if record.suite == name]
        if section:
            lines += [f"## {suite.title}", "", *([suite.note, ""] if suite.note else []),
                      suite.report(section, metrics), ""]
            figures += suite.figures(section, directory)
    if figures or images:
        lines += ["## Figures", ""]
        for caption, path in [*figures, *images]:
            lines += [f"### {caption}", "", f"![{caption}]({_relative(path, directory)})", ""]
    mlflow = results.get("mlflow", {})
    if mlflow.get("error"):
        lines += ["## MLflow", "", f"Tracking failed, the results above are complete without it: {mlflow['error']}", ""]
    return write_text_atomic(directory / REPORT_FILE, "\n".join(lines))


def write_html(report: Path) -> Path:
    """`report.html` beside `report`: its Markdown rendered, each local PNG embedded as a data URI."""
    from markdown_it import MarkdownIt

    markdown = report.read_text()
    body = MarkdownIt("commonmark").enable("table").render(markdown)

    def embed(match: re.Match) -> str:
        image = report.parent / html.unescape(match.group(1))
        if not image.is_file():
            return match.group(0)
        return f'src="data:image/png;base64,{base64.b64encode(image.read_bytes()).decode()}"'

    body = re.sub(r'src="([^":]+\.png)"', embed, body)
    title = html.escape(markdown.partition("\n")[0].lstrip("# "))
    page = f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title><style>{_STYLE}</style>" \
           f"</head><body>{body}</body></html>"
    return write_text_atomic(report.with_name(HTML_FILE), page)


def _provenance(results: dict[str, Any]) -> str:
    device = results["device"]
    rows = [("scale", results["scale"]), ("suites", ", ".join(results["suites"])),
            ("device", f"{device['name']} ({device['type']}, {device['threads']} threads)"),
            ("git commit", results.get("git_commit") or "unknown"), ("created", results["created"]),
            ("command", f"`{results.get('command', '')}`"),
            ("torch", results["versions"].get("torch"))]
    return markdown_table([list(row) for row in rows], ("", ""))


def _relative(path: Path, directory: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(directory.resolve()))
    except ValueError:
        return str(path)
