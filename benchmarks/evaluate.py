"""`python -m benchmarks.evaluate`: score a checkpoint on a dataset folder, as the runner scores a trained case.

    python -m benchmarks.evaluate --checkpoint ckpt/HRM-checkpoint-sudoku-extreme --data data/sudoku-extreme --limit 200
    python -m benchmarks.evaluate --checkpoint results/cpu/cases/accuracy-sudoku-hrm-0 --mode act

The checkpoint is a reference run's folder (or a released checkpoint) or a case this suite trained
(`benchmarks.checkpoints`); the data is a dataset folder with one sub-folder per split, written by the
reference's builders or by `python -m tasks <task> build`. The task is the one the checkpoint records, else
`--task`, else the one task whose vocabulary and sequence length the folder has (`Task.sized_for`).
Reported: the task's own scores (token and exact accuracy, ARC's voted pass@k both ways), each proportion with
its n and a 95% Wilson interval, the mean segments, the Q-halt accuracy, the exact and token accuracy of the
prediction after each segment, and in `act` mode the histogram of segments used; examples/s as measured.
Written to the output folder: results.json (schema 2, one record of suite "evaluate"), report.md, a
figure, and the task's own files (ARC: submission.json); logged as one MLflow run.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import sys
import time
from pathlib import Path

from benchmarks import console
from benchmarks.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK

SUITE = "evaluate"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.evaluate",
        description="Evaluate a checkpoint (a reference run's folder with all_config.yaml, a released HRM "
                    "checkpoint, or a case folder of this suite) on a dataset folder; write results.json, "
                    "report.md and a figure, and log one MLflow run.",
        epilog="Exit status: 0 done; 2 bad input (one error line, e.g. a checkpoint whose puzzle table does not "
               "match the dataset); 130 interrupted (nothing is written). Paper-size HRM evaluates about half "
               "an example per second on 2 CPU cores at 16 segments: use --limit for a quick look.",
    )
    p.add_argument("--checkpoint", type=Path, required=True,
                   help="a folder holding all_config.yaml and step_<N> (or checkpoint) files, one such file, or a "
                        "case folder of this suite holding checkpoint.pt")
    p.add_argument("--data", type=Path, default=None,
                   help="dataset folder with one sub-folder per split (or one split folder); required for a "
                        "reference checkpoint, a suite checkpoint rebuilds the split it was trained with")
    p.add_argument("--split", default=None, help="the split to evaluate (default: test)")
    p.add_argument("--task", default=None,
                   help="the task that scores it (default: recorded by the checkpoint, else found from the "
                        "folder's vocabulary and sequence length)")
    p.add_argument("--arm", default=None, help="the arm of a suite checkpoint too old to record it")
    p.add_argument("--max-segments", type=int, default=0,
                   help="segment budget (halt_max_steps) at inference (default: the checkpoint's)")
    p.add_argument("--mode", choices=("fixed", "act"), default="fixed",
                   help="fixed: every example runs all segments (the reference's evaluation); act: each stops at "
                        "its first halt decision (default: fixed)")
    p.add_argument("--limit", type=int, default=0,
                   help="evaluate only the first N examples, extended to whole puzzle groups (default: all)")
    p.add_argument("--batch-size", type=int, default=64, help="examples per forward pass (default: 64)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                   help="auto = CUDA when available (default: auto)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                   help="a field of the task's config, e.g. vote_invalid=false for ARC (repeatable)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: results/evaluate-<UTC time>)")
    console.add_verbosity(p)
    return p


def main(argv: list[str] | None = None) -> int:
    """Exit status: 0 done, 2 bad input, 130 interrupted."""
    args = parser().parse_args(argv)
    console.configure(args.verbosity)
    from benchmarks.errors import BenchmarkError
    from hrm.errors import ConfigError
    from tasks.base import TaskError

    try:
        return _evaluate(args)
    except (BenchmarkError, ConfigError, TaskError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted: nothing was written; use --limit N for a shorter evaluation", file=sys.stderr)
        return EXIT_INTERRUPTED


def _check_arguments(args: argparse.Namespace) -> None:
    from benchmarks.errors import BenchmarkError

    for flag, value in (("--max-segments", args.max_segments), ("--limit", args.limit)):
        if value < 0:
            raise BenchmarkError(f"{flag} must be >= 0 (0: {'all' if flag == '--limit' else 'the checkpoint'}), "
                                 f"got {value}")
    if args.batch_size < 1:
        raise BenchmarkError(f"--batch-size must be >= 1, got {args.batch_size}")


def _evaluate(args: argparse.Namespace) -> int:
    import torch

    from benchmarks import checkpoints
    from benchmarks.context import resolve_device
    from benchmarks.evaluation import evaluate_split, evaluation_budget
    from hrm.layers import count_parameters
    from tasks.dataset import leading_groups

    _check_arguments(args)
    device = resolve_device(args.device)
    checkpoint = checkpoints.read(args.checkpoint)
    task, split, data_name = _task_and_split(args, checkpoint)
    dataset = task.prepare(split, seed=checkpoint.data_seed)
    total = len(dataset.inputs)
    if args.limit:
        dataset = leading_groups(dataset, args.limit)
    model, model_config, arm = checkpoints.build(checkpoint, dataset.metadata, data_name, args.arm)
    model.to(device)
    budget = evaluation_budget(model_config, args.max_segments)
    examples = len(dataset.inputs)
    print(f"evaluate: {checkpoint.weights} ({checkpoint.layout} layout, {count_parameters(model) / 1e6:.2f} M "
          f"parameters) on {data_name}: {examples} of {total} examples, {args.mode} mode, {budget} segments, "
          f"{device.type}", file=sys.stderr)
    started = time.perf_counter()
    with _Progress(examples) as progress:
        evaluation = evaluate_split(model, dataset, task, batch_size=args.batch_size, halt_max_steps=budget,
                                    mode=args.mode, device=device, per_segment=True, on_batch=progress.advance)
    wall = time.perf_counter() - started
    out_dir = args.out or Path("results") / f"evaluate-{datetime.datetime.now(datetime.UTC):%Y%m%d-%H%M%S}"
    context = {
        "checkpoint": {"path": str(checkpoint.weights), "layout": checkpoint.layout, "arm": arm,
                       "step": checkpoint.step},
        "data": {"name": data_name, "split": split, "examples": examples, "examples_in_split": total,
                 "limit": args.limit},
        "evaluation": {"mode": args.mode, "halt_max_steps": budget, "batch_size": args.batch_size},
        "model": dataclasses.asdict(model_config),
        "task": {task.name: dataclasses.asdict(task.config)},
        "threads": torch.get_num_threads(),
    }
    from benchmarks import evaluation_report

    record = evaluation_report.record(task, context, evaluation, wall)
    outputs = task.write_outputs(dataset, evaluation.predictions, evaluation.q_halt_logits, out_dir)
    written = evaluation_report.write(out_dir, task, context, record, device, outputs)
    for line in evaluation_report.summary(task, record):
        print(line)
    print(f"{examples} examples in {wall:.1f} s ({record.metrics['examples_per_s']:.3g} examples/s on {device.type})"
          f"\nreport:  {written.report}\nresults: {written.results}\nmlflow:  {written.tracking}")
    return EXIT_OK


def _task_and_split(args: argparse.Namespace, checkpoint) -> tuple:
    """The task (configured to read the data folder, or as the checkpoint recorded it), the split, and the
    data's name for messages."""
    from benchmarks.errors import BenchmarkError
    from tasks.dataset import read_metadata
    from tasks.registry import TASKS, get_task, task_config

    split = args.split or "test"
    if args.data is None:
        if checkpoint.task is None:
            raise BenchmarkError("--data is required for a reference checkpoint: the dataset folder to evaluate on "
                                 "(built by the reference's dataset/build_*_dataset.py or `python -m tasks ... build`)")
        name = args.task or checkpoint.task
        if name != checkpoint.task:
            raise BenchmarkError(f"--task {name}: without --data the checkpoint's own task ({checkpoint.task}) is "
                                 "rebuilt; give --data to score it on another")
        fields = {**checkpoint.task_settings, **_user_fields(args.overrides)}
        return get_task(name, task_config(name, fields)), split, f"{name} {split} split (rebuilt as trained)"
    folder = args.data
    if (folder / "dataset.json").is_file():  # one split folder given
        if args.split is not None and args.split != folder.name:
            raise BenchmarkError(f"--data {folder} is the {folder.name!r} split folder, but --split is {args.split!r}")
        folder, split = folder.parent, folder.name
    elif not folder.is_dir():
        raise BenchmarkError(f"--data: {folder} {'is not a folder' if folder.exists() else 'does not exist'}")
    metadata = read_metadata(folder / split)
    try:
        vocab, seq_len = int(metadata["vocab_size"]), int(metadata["seq_len"])
    except (KeyError, TypeError, ValueError):
        raise BenchmarkError(f"{folder / split / 'dataset.json'}: needs integer vocab_size and seq_len") from None
    fitting = {name: sizes for name, cls in TASKS.items() if (sizes := cls.sized_for(vocab, seq_len)) is not None}
    name = args.task or checkpoint.task
    if name is None:
        if len(fitting) != 1:
            found = f"tasks {', '.join(fitting)} all have" if fitting else "no registered task has"
            raise BenchmarkError(f"{folder / split}: {found} vocab_size {vocab} and seq_len {seq_len}; name the "
                                 f"task with --task ({', '.join(TASKS)})")
        (name,) = fitting
    if name not in TASKS:
        raise BenchmarkError(f"--task {name}: unknown task; known tasks: {', '.join(TASKS)}")
    recorded = checkpoint.task_settings if name == checkpoint.task else {}
    fields = {**recorded, **fitting.get(name, {}), "dataset_dir": str(folder), **_user_fields(args.overrides)}
    return get_task(name, task_config(name, fields)), split, str(folder / split)


def _user_fields(overrides: list[str]) -> dict[str, str]:
    """The task-config fields of `--set` (a leading "task." is allowed, as in the runner's keys)."""
    from tasks.values import parse_assignments

    return {field.removeprefix("task."): value for field, value in parse_assignments(overrides).items()}


class _Progress:
    """Examples evaluated so far: a tqdm bar with ETA on a terminal, else a line at every tenth of the work."""

    def __init__(self, total: int) -> None:
        from tqdm import tqdm

        self.total, self.done, self.started = total, 0, time.perf_counter()
        self.shown = console.shows_progress()
        self.bar = tqdm(total=total, unit="ex", desc="evaluate", disable=not (self.shown and sys.stderr.isatty()),
                        leave=False)
        self.next_line = total / 10

    def advance(self, examples: int) -> None:
        self.done += examples
        self.bar.update(examples)
        if self.shown and self.bar.disable and self.done >= self.next_line and self.done < self.total:
            elapsed = time.perf_counter() - self.started
            rate = self.done / max(elapsed, 1e-9)
            print(f"  evaluate: {self.done}/{self.total} examples, {rate:.3g} examples/s, "
                  f"ETA {(self.total - self.done) / rate:.0f} s", file=sys.stderr, flush=True)
            self.next_line += self.total / 10

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.bar.close()


if __name__ == "__main__":
    sys.exit(main())
