"""Command line for the task harnesses.

    python -m tasks <task> build [--set field=value ...] [--split SPLIT|both] [--seed S] [--out DIR]
    python -m tasks <task> download --out DIR

SPLIT is one of the task's `splits` (train, test; ARC also adapt); `both` is train and test.
`build` writes each split to DIR/<split> in the reference layout (loadable by `tasks.dataset.load_dataset`
and by the reference implementation) and prints its summary: counts, difficulty distribution, disk size.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tasks.base import TaskError
from tasks.dataset import disk_size, save_dataset, summarize
from tasks.registry import TASKS, get_task, get_task_class, task_config, task_names
from tasks.values import parse_assignments


def _splits(task: str, split: str) -> tuple[str, ...]:
    """The splits `--split` names for `task` ("both": train and test); TaskError for one the task lacks."""
    if split == "both":
        return ("train", "test")
    known = get_task_class(task).splits
    if split not in known:
        raise TaskError(f"--split {split}: {task} has no such split; its splits: {', '.join(known)} (or both)")
    return (split,)


def _format(name: str, summary: dict, size: int) -> str:
    lines = [f"{name}: {summary['examples']} examples, {summary['puzzles']} puzzles, {summary['groups']} groups, "
             f"seq_len {summary['seq_len']}, vocab {summary['vocab_size']}, {size / 1e6:.2f} MB on disk"]
    if "difficulty" in summary:
        d = summary["difficulty"]
        lines.append("  difficulty: " + ", ".join(f"{k} {v:.4g}" for k, v in d.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks", description="Build or download task datasets.")
    parser.add_argument("task", choices=task_names())
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write a dataset and print its summary")
    build.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                       help="task config field (repeatable)")
    every_split = dict.fromkeys(name for cls in TASKS.values() for name in cls.splits)
    build.add_argument("--split", choices=(*every_split, "both"), default="both",
                       help="a split of the task (ARC also has adapt), or both: train and test")
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--out", type=Path, default=None, help="output folder (default data/<task>)")
    build.add_argument("--cache-dir", type=Path, default=None, help="keep generated splits here for reuse")
    download = commands.add_parser("download", help="fetch the paper's data (needs network, huggingface_hub)")
    download.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "download":
            task = get_task(args.task)
            folder = task.download(args.out)
            fields = task.download_settings(folder).items()
            here = " ".join(f"--set {name}={value}" for name, value in fields)
            runner = " ".join(f"--set task.{args.task}.{name}={value}" for name, value in fields)
            print(f"downloaded {args.task} data to {folder}" + (
                f"; build from it with `python -m tasks {args.task} build {here}`, or train on it with "
                f"`python -m benchmarks.run {runner}`" if fields else ""))
            return 0
        task = get_task(args.task, task_config(args.task, parse_assignments(args.set)))
        splits = _splits(args.task, args.split)
        out = args.out or Path("data") / args.task
        with tempfile.TemporaryDirectory() as scratch:  # lets the train build reuse the test split it excludes
            cache = args.cache_dir or Path(scratch)
            for split in splits:
                dataset = task.build(split, seed=args.seed, cache_dir=cache)
                folder = save_dataset(dataset, out / split)
                print(_format(f"{args.task} {split} -> {folder}", summarize(dataset), disk_size(folder)))
                for note in task.data_notes(dataset):
                    print(f"  data: {note}")
    except TaskError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
