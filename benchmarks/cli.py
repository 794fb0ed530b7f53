"""`hrm-bench`: one console command for the suite's programs; each `python -m` form keeps working.

    hrm-bench run --suite all --scale smoke      # python -m benchmarks.run
    hrm-bench sweep --task sudoku ...            # python -m benchmarks.sweep
    hrm-bench compare results/baseline results/mine
    hrm-bench evaluate --checkpoint ... --data ...
    hrm-bench tasks sudoku build ...             # python -m tasks
    hrm-bench --version

A program's module is imported only once it is chosen, so `--help` and `--version` answer at once.
"""

from __future__ import annotations

import importlib
import sys
from importlib import metadata

# subcommand -> (module with main(argv), what it does)
PROGRAMS = {
    "run": ("benchmarks.run", "train and evaluate the suites; results.json, report.md, MLflow"),
    "sweep": ("benchmarks.sweep", "Optuna sweeps over N, T, Mmax and other settings"),
    "compare": ("benchmarks.compare", "gate a run against a baseline run"),
    "evaluate": ("benchmarks.evaluate", "score a reference, released or suite checkpoint on a dataset folder"),
    "tasks": ("tasks.__main__", "build or download task datasets"),
}


def version() -> str:
    """The installed hrm-bench version ("unknown" when run from a tree that is not installed)."""
    try:
        return metadata.version("hrm-bench")
    except metadata.PackageNotFoundError:
        return "unknown"


def usage() -> str:
    width = max(map(len, PROGRAMS))
    lines = ["usage: hrm-bench {" + ",".join(PROGRAMS) + "} [arguments]", "       hrm-bench --version", "",
             "programs (each takes --help):"]
    lines += [f"  {name:<{width}}  {words} (python -m {module})" for name, (module, words) in PROGRAMS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen program with the remaining arguments; its exit status is returned."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    if argv[0] == "--version":
        print(f"hrm-bench {version()}")
        return 0
    if argv[0] not in PROGRAMS:
        print(f"{usage()}\n\nerror: unknown program {argv[0]!r}", file=sys.stderr)
        return 2
    module, _ = PROGRAMS[argv[0]]
    return importlib.import_module(module).main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
