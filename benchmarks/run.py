"""`python -m benchmarks.run`: run benchmark suites, write results.json and report.md, log to MLflow.

    python -m benchmarks.run --suite all --scale cpu
    python -m benchmarks.run --suite accuracy --scale smoke --tasks sudoku --arms hrm,transformer --seeds 0,1
    python -m benchmarks.run --suite all --scale cpu --set model.H_cycles=4 --set task.sudoku.size=6 --dry-run

The arguments are parsed before anything heavy is imported (torch, the task, arm and suite registries: several
seconds), so `--help` and a mistyped flag answer at once; the names of suites, scales, tasks and arms are
checked right after, against the registries (`benchmarks.runner`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.console import add_verbosity
from benchmarks.errors import EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_INTERRUPTED, EXIT_OK

__all__ = ["EXIT_BAD_INPUT", "EXIT_DIVERGED", "EXIT_INTERRUPTED", "EXIT_OK", "main", "parser"]


def parser() -> argparse.ArgumentParser:
    """The command line; suite, scale, task and arm names are checked after parsing (`benchmarks.runner`)."""
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Train and evaluate HRM and its baselines on the tasks; write results.json, report.md and "
                    "PNGs to the output folder and log a parent MLflow run with one nested run per case.",
        epilog="Tracking store: $MLFLOW_TRACKING_URI when set, else sqlite:///<parent of --out>/mlflow.db "
               "(open it with: mlflow ui --backend-store-uri sqlite:///results/mlflow.db). "
               "Overridable keys: model.<field>, arm.<arm>.<field>, optim.<field>, train.<field>, "
               "optim.<task>.<field>, train.<task>.<field>, task.<task>.<field> and <suite>.<field> for the "
               "suites with settings (see benchmarks/config.py and each suite's settings class; --dry-run shows "
               "every resolved setting and where it came from). "
               "--set train.workers=K trains K accuracy cases at once in separate processes. "
               "Exit status: 0 done; 2 bad input (one error line); 3 done, but a "
               "training case diverged (its record says at which step; every other result is written); 130 "
               "interrupted (the finished records are written; continue with --resume).",
    )
    p.add_argument("--suite", default="all",
                   help="which suite to run, or all (default: all; an unknown name is answered with the list)")
    p.add_argument("--scale", default="cpu",
                   help="smoke: seconds, for CI; cpu: < 30 min on 2 cores, shows learning; paper: the paper's "
                        "sizes, needs a GPU (default: cpu)")
    p.add_argument("--tasks", default="", help="comma-separated tasks (default: every registered task)")
    p.add_argument("--arms", default="", help="comma-separated arms (default: every registered arm)")
    p.add_argument("--seeds", default=None,
                   help="comma-separated model seeds (default: the scale's train.seeds; cpu: 0,1,2)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                   help="training device; auto = CUDA when available (default: auto)")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default: results/<scale>-<UTC time>); required with --resume")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one setting, e.g. model.H_cycles=4, train.steps=500, task.sudoku.size=6 "
                        "(repeatable; lists comma-separated: memory.T_values=1,2,4)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run in --out from its checkpoints (finished cases are reused)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the plan with its time estimate (measured by a short probe) and every resolved setting, "
                        "then exit")
    add_verbosity(p)
    return p


def main(argv: list[str] | None = None) -> int:
    """Exit status: 0 done, 2 bad input, 3 done but a training case diverged, 130 interrupted."""
    p = parser()
    args = p.parse_args(argv)
    from benchmarks import runner  # torch and the registries, once the arguments parse

    return runner.main(args, p, bare=not (sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
