"""What the programs say on the terminal, by `-q` / `-v`: the `benchmarks` logger and the libraries' loggers.

    log = logging.getLogger("benchmarks")   # or a child: logging.getLogger(__name__)
    configure(args.verbosity)               # -q: -1, default: 0, -v: 1

- `-q` (quiet): warnings and errors only, and the results a program prints on stdout at the end; no progress.
- default: progress, each finished case's headline, data notes, warnings; the libraries' info lines (MLflow's
  "Creating initial MLflow database tables...") are left out.
- `-v` (verbose): also the debug lines and the libraries' info lines.

Lines go to stderr as plain messages, so stdout holds only results (a table, a path) that scripts can read.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

LOGGER = "benchmarks"
_LIBRARIES = ("mlflow", "alembic", "optuna", "urllib3")
_HANDLER_NAME = "hrm-bench console"
_MLFLOW_LEVEL = "MLFLOW_LOGGING_LEVEL"  # read by MLflow when it is imported; a value the user set is kept
_SET_BY_US = "HRM_BENCH_SET_MLFLOW_LOGGING_LEVEL"


def add_verbosity(parser: argparse.ArgumentParser) -> None:
    """`-q/--quiet` and `-v/--verbose`, stored together as `args.verbosity` (-1, 0 or 1)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", dest="verbosity", action="store_const", const=-1, default=0,
                       help="warnings, errors and the final results only (no progress)")
    group.add_argument("-v", "--verbose", dest="verbosity", action="store_const", const=1,
                       help="also debug lines and the libraries' own info lines (MLflow, Optuna)")


def configure(verbosity: int = 0) -> logging.Logger:
    """Set the `benchmarks` logger's level and stderr handler (replacing the one set before) and the
    libraries' levels; returns the logger."""
    logger = logging.getLogger(LOGGER)
    logger.setLevel({-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG))
    for handler in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)  # the stderr of now (a test's captured one, say)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    library_level = "INFO" if verbosity > 0 else "WARNING"
    for name in _LIBRARIES:
        logging.getLogger(name).setLevel(library_level)
    if _MLFLOW_LEVEL not in os.environ or os.environ.get(_SET_BY_US) == "1":  # MLflow sets its level on import
        os.environ.update({_MLFLOW_LEVEL: library_level, _SET_BY_US: "1"})
    return logger


def verbosity() -> int:
    """The verbosity `configure` was last given (for worker processes to configure the same)."""
    level = logging.getLogger(LOGGER).getEffectiveLevel()
    return -1 if level >= logging.WARNING else 0 if level == logging.INFO else 1


def shows_progress() -> bool:
    """Whether progress lines and bars are wanted (not under -q)."""
    return logging.getLogger(LOGGER).isEnabledFor(logging.INFO)
