"""What `python -m benchmarks.run` does once its arguments parse: resolve the settings, hold the output folder,
run the suites with one progress display and one MLflow parent run, and write results.json and report.md
whatever ends the run. `benchmarks.run` parses first and imports this module after, so that an argument error
or `--help` answers before torch and the registries load.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import shlex
import sys
import time
from pathlib import Path

import torch

from benchmarks import console, distributed, interrupts, run_folder
from benchmarks.config import RunConfig, resolve, scales
from benchmarks.context import SuiteContext, prepare_task, resolve_device
from benchmarks.errors import EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_INTERRUPTED, EXIT_OK, BenchmarkError
from benchmarks.estimate import CostModel
from benchmarks.plan import describe_plan
from benchmarks.progress import RunProgress, Work
from benchmarks.record import Record
from benchmarks.report import write_html, write_report
from benchmarks.results import build_results, device_info, git_commit, write_results
from benchmarks.suites import SUITES
from benchmarks.tracking import Tracker, flatten, resolve_tracking_uri, run_name
from hrm.errors import ConfigError
from tasks.base import TaskError
from tasks.metric import Metric, declarations

log = logging.getLogger("benchmarks")

def main(args: argparse.Namespace, parser: argparse.ArgumentParser, bare: bool = False) -> int:
    """Run the parsed invocation; exit status 0 done, 2 bad input, 3 a case diverged, 130 interrupted.
    `bare`: the command had no arguments, so the plan and its estimate are printed before the run starts."""
    from baselines.registry import ARMS
    from tasks.registry import TASKS

    console.configure(args.verbosity)
    _choose(parser, "--suite", args.suite, ("all", *SUITES))
    _choose(parser, "--scale", args.scale, scales())
    args.tasks = args.tasks or ",".join(TASKS)
    args.arms = args.arms or ",".join(ARMS)
    try:
        with interrupts.handled():  # SIGTERM and Ctrl-C stop the run, never inside a tracking call
            return _run(args, bare)
    except (BenchmarkError, ConfigError, TaskError) as error:  # bad input: one line, no traceback
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        distributed.stop()


def _choose(parser: argparse.ArgumentParser, flag: str, value: str, choices) -> None:
    """argparse's own error (exit status 2) for a value that is not one of `choices`."""
    if value not in choices:
        parser.error(f"argument {flag}: invalid choice: {value!r} (choose from {', '.join(choices)})")


def _names(value: str, known: dict, kind: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise BenchmarkError(f"unknown {kind} {', '.join(unknown) or '(none given)'}; known {kind}s: "
                             f"{', '.join(known)}")
    _check_unique(names, f"--{kind}s")
    return names


def _seeds(value: str) -> list[int]:
    try:
        seeds = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise BenchmarkError(f"--seeds must be comma-separated integers, got {value!r}") from None
    if not seeds:
        raise BenchmarkError("--seeds needs at least one seed")
    negative = [seed for seed in seeds if seed < 0]
    if negative:
        raise BenchmarkError(f"--seeds must be integers >= 0, got {negative[0]}")
    _check_unique(seeds, "--seeds")
    return seeds


def _check_unique(values: list, flag: str) -> None:
    repeated = sorted({str(value) for value in values if values.count(value) > 1})
    if repeated:
        raise BenchmarkError(f"{flag} names {', '.join(repeated)} more than once")


def _run(args: argparse.Namespace, bare: bool) -> int:
    from baselines.registry import ARMS
    from tasks.registry import TASKS

    config = resolve(args.scale, args.overrides)
    tasks, arms = _names(args.tasks, TASKS, "task"), _names(args.arms, ARMS, "arm")
    seeds = _seeds(args.seeds) if args.seeds is not None else list(config.train.seeds)
    suites = list(SUITES) if args.suite == "all" else [args.suite]
    device = resolve_device(args.device)
    ranks, device = distributed.start(device)
    if ranks.world > 1:
        _check_distributed(suites, config, ranks)
    if config.train.threads:
        torch.set_num_threads(config.train.threads)
    if args.dry_run:
        print(describe_plan(config, suites, tasks, arms, seeds, device))
        return EXIT_OK
    if bare and ranks.main:
        log.info(f"{describe_plan(config, suites, tasks, arms, seeds, device, settings=False)}\n\nstarting; Ctrl-C "
                 "stops it (finished cases are kept; --resume continues), --dry-run shows the plan without running, "
                 "--scale smoke is a one-minute check\n")
    if args.resume and args.out is None:
        raise BenchmarkError("--resume needs --out: the folder of the run to continue")
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
    out_dir = args.out or Path("results") / f"{args.scale}-{stamp}"
    if args.resume and not out_dir.is_dir():
        raise BenchmarkError(f"--resume: {out_dir} is not a folder holding a run; check the --out path")
    run_folder.check_writable(out_dir, "output folder", "--out")
    if config.train.cache_dir:
        run_folder.check_writable(Path(config.train.cache_dir), "dataset cache folder", "train.cache_dir")
    selection = {"suites": suites, "tasks": tasks, "arms": arms, "seeds": seeds, "device": device.type}
    settings = run_folder.run_settings(config.to_dict(), selection)
    if not ranks.main:  # the other ranks train their slices; rank 0 holds the folder and writes
        distributed.barrier(ranks)
        return _run_suites(args, config, suites, tasks, arms, seeds, device, out_dir, "", ranks)
    with run_folder.hold(out_dir):
        digest = run_folder.start(out_dir, settings, _command(), resume=args.resume)
        distributed.barrier(ranks)
        return _run_suites(args, config, suites, tasks, arms, seeds, device, out_dir, digest, ranks)


def _check_distributed(suites: list[str], config: RunConfig, ranks: distributed.Ranks) -> None:
    """What a torchrun job can run: the accuracy suite's cases, each trained data-parallel on every rank."""
    if suites != ["accuracy"]:
        raise BenchmarkError(f"under torchrun ({ranks.world} processes) only --suite accuracy trains data-parallel; "
                             f"run {', '.join(s for s in suites if s != 'accuracy')} in one process")
    if config.train.workers > 1:
        raise BenchmarkError("train.workers > 1 trains cases side by side in one process each; under torchrun "
                             "every case uses all the processes, so leave train.workers at 1")


def _command() -> str:
    return " ".join(["python -m benchmarks.run", *sys.argv[1:]])


def _resume_command(out_dir: Path) -> str:
    """This invocation's command with `--resume --out <out_dir>` in place of any --resume/--out it had."""
    kept, skip = [], False
    for item in sys.argv[1:]:
        if skip:
            skip = False
        elif item == "--out":
            skip = True
        elif item != "--resume" and not item.startswith("--out="):
            kept.append(item)
    return shlex.join(["python", "-m", "benchmarks.run", *kept, "--resume", "--out", str(out_dir)])


def _run_suites(args: argparse.Namespace, config: RunConfig, suites: list[str], tasks: list[str], arms: list[str],
                seeds: list[int], device: torch.device, out_dir: Path, digest: str,
                ranks: distributed.Ranks) -> int:
    """Run the suites; write results.json and report.md with every finished record, whatever ends the run.
    Under torchrun only rank 0 tracks and writes; the other ranks run the same training and return."""
    commit = git_commit(Path(__file__).resolve().parent)
    tags = {"scale": args.scale, "mlflow.source.name": "benchmarks.run", "mlflow.source.type": "LOCAL",
            **({"mlflow.source.git.commit": commit} if commit else {})}  # the UI's Source column: program, commit
    tracker = (Tracker(resolve_tracking_uri(out_dir.parent), artifact_root=out_dir.parent / "mlartifacts", tags=tags)
               if ranks.main else Tracker(None))
    started = time.perf_counter()
    records: list[Record] = []
    metrics: dict[str, Metric] = {}
    walls: dict[str, float] = {}
    interrupted: BaseException | None = None
    stamp = datetime.datetime.now(datetime.UTC).strftime("%m-%d %H:%M:%S")
    parent_name = run_name(out_dir.name, stamp)  # unique when --out names the same folder again (UTC time)
    with tracker.run(parent_name, tags={"suite": ",".join(suites)}) as parent:
        parent.log_params({**flatten(config.to_dict()), "tasks": ",".join(tasks), "arms": ",".join(arms),
                           "seeds": ",".join(map(str, seeds)), "settings_hash": digest, "out": str(out_dir),
                           "git_commit": str(commit), "device": device_info(device)["class"],
                           "torch": torch.__version__})
        ctx = SuiteContext(config, tasks, arms, seeds, device, out_dir, tracker, parent, resume=args.resume,
                           suites=suites)
        try:
            ctx.data_notes = _prepare_data(config, tasks)
            metrics = _declared_metrics(config, suites, tasks)
            ctx.progress = RunProgress(_work(ctx, CostModel(device, probe=False)),
                                       enabled=config.train.progress and ranks.main and console.shows_progress())
            for suite in suites:
                suite_started = time.perf_counter()
                for record in SUITES[suite].run(ctx):
                    if not isinstance(record, Record):
                        raise BenchmarkError(f"suite {suite!r} yielded {type(record).__name__}, not a Record")
                    records.append(record)
                walls[f"{suite}_wall_s"] = time.perf_counter() - suite_started
        except (interrupts.Stopped, KeyboardInterrupt) as stop:
            interrupted = stop
            parent.kill(f"interrupted ({stop or 'Ctrl-C'})")
        finally:
            ctx.progress.close()
            walls["wall_s"] = time.perf_counter() - started
            records = _in_plan_order(records, suites, tasks, arms, seeds)
            if ranks.main:
                results, report = _write(out_dir, config, suites, device, tracker, parent.run_id,
                                         records, metrics, ctx, walls, digest)
        if not ranks.main:
            return EXIT_INTERRUPTED if interrupted is not None else EXIT_OK
        parent.log_metrics(walls)
        for path in (report, write_html(report), out_dir / "results.json", *sorted(out_dir.glob("*.png"))):
            parent.log_artifact(path)
    if tracker.error:  # written again so the files say that tracking failed part-way
        _write(out_dir, config, suites, device, tracker, parent.run_id, records, metrics, ctx, walls,
               digest)
        log.warning(f"warning: MLflow tracking failed; results are complete without it: {tracker.error}")
    if interrupted is not None:
        log.warning(f"interrupted ({interrupted or 'Ctrl-C'}): the {len(records)} records finished so far are in "
                    f"{out_dir / 'results.json'}; continue with --resume: {_resume_command(out_dir)}")
        return EXIT_INTERRUPTED
    for suite in sorted(suites, key=lambda name: not SUITES[name].leads_report):  # the leading suites first
        for line in SUITES[suite].summary([record for record in records if record.suite == suite], metrics):
            print(line)
    timing = ", ".join(f"{name.removesuffix('_wall_s')} {value:.1f} s" for name, value in walls.items()
                       if name != "wall_s")
    print(f"{len(records)} records in {walls['wall_s']:.1f} s ({timing})\nreport:  {report}\n"
          f"results: {out_dir / 'results.json'}\nmlflow:  {tracker.tracking_uri} (run {parent.run_id})")
    diverged = [record for record in records if record.diverged and record.seed is not None]
    if diverged:
        for record in diverged:
            log.warning(f"DIVERGED: {record.suite} {record.task} / {record.arm} / seed {record.seed} at step "
                        f"{record.diverged_at_step}")
        return EXIT_DIVERGED
    return EXIT_OK


def _work(ctx: SuiteContext, costs: CostModel) -> list[Work]:
    """Every selected suite's work items, for the run's one progress display."""
    return [item for suite in ctx.suites for item in SUITES[suite].work(ctx, costs)]


def _prepare_data(config: RunConfig, tasks: list[str]) -> list[str]:
    """Build (or read from the cache) every selected task's splits before any training, and print what the
    builds left out (malformed files, puzzles too large, ...): the notes go into results.json and the report."""
    notes: list[str] = []
    for task in tasks:
        prepared = prepare_task(config, task)
        notes += [*prepared.task.data_notes(prepared.train), *prepared.task.data_notes(prepared.test)]
    notes = list(dict.fromkeys(notes))
    for note in notes:
        log.info(f"data: {note}")
    return notes


def _declared_metrics(config: RunConfig, suites: list[str], tasks: list[str]) -> dict[str, Metric]:
    """The declarations of every metric the selected suites report for the selected tasks."""
    task_objects = [prepare_task(config, task).task for task in tasks]
    try:
        return declarations(metric for suite in suites for metric in SUITES[suite].metrics(task_objects))
    except ValueError as error:
        raise BenchmarkError(str(error)) from None


def _in_plan_order(records: list[Record], suites: list[str], tasks: list[str], arms: list[str],
                   seeds: list[int]) -> list[Record]:
    """Records sorted by suite, task, arm and seed as selected (a seed aggregate after its seeds); records of
    one case keep the order their suite produced them in. Parallel workers finish cases in any order."""
    def position(record: Record) -> tuple[int, int, int, int]:
        seed = record.seed
        return (suites.index(record.suite), tasks.index(record.task), arms.index(record.arm),
                len(seeds) if seed is None else seeds.index(seed))

    return sorted(records, key=position)


def _write(out_dir: Path, config: RunConfig, suites: list[str], device: torch.device,
           tracker: Tracker, parent_run_id: str | None, records: list[Record], metrics: dict[str, Metric],
           ctx: SuiteContext, walls: dict[str, float], digest: str) -> tuple[dict, Path]:
    mlflow = {"tracking_uri": tracker.tracking_uri, "parent_run_id": parent_run_id, "error": tracker.error}
    results = build_results(run_name=out_dir.name, scale=config.scale, suites=suites, device=device,
                            config=config.to_dict(), mlflow=mlflow, metrics=metrics, records=records)
    results["wall_s"] = dict(walls)
    results["settings_hash"] = digest
    results["data_notes"] = list(ctx.data_notes)
    write_results(results, out_dir)
    return results, write_report(results, out_dir, ctx.images)
