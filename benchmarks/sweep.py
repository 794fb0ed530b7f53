"""Optuna sweeps over HRM's cycle counts and segment budget: `python -m benchmarks.sweep`.

    python -m benchmarks.sweep --task sudoku --arm hrm --scale cpu --trials 20
        [--study NAME] [--storage URL] [--objective exact|exact-per-compute|pareto]
        [--space N=1:4,T=1:8,Mmax=1:16,lr=log:1e-5:1e-3] [--out DIR] [--set key=value ...]

Each trial trains and evaluates one case of the accuracy suite (`benchmarks.suites.accuracy.run_case`) at
the scale's settings with the trial's values applied as `--set` overrides (N -> H_cycles, T -> L_cycles,
Mmax -> halt_max_steps of the swept arm, also the inference budget while train.eval_halt_max_steps is 0,
the default; lr -> optim.lr). N and T are the paper's names for HRM's loops; the summary says what the two
fields mean for the swept arm (`ArmSpec.loop_names`: for TRM, H_cycles is its T and L_cycles its n). Objectives:

- `exact`: maximise test exact accuracy (TPE, seeded; median pruning on the periodic evaluations of the
  last `1 - --prune-warmup` of training);
- `exact-per-compute`: maximise exact accuracy divided by block applications per test example (the same);
- `pareto`: maximise exact accuracy and minimise block applications per example (NSGA-II; Optuna cannot
  prune multi-objective trials, so every trial runs to the end).

The study lives in `sqlite:///<out>/optuna.db` unless `--storage` names another database URL, so several
processes (SQLite) or machines (a server database such as `postgresql+psycopg://user@host/db`, with the
`postgres` extra's driver) can work on one study; give each concurrent worker its own `--sampler-seed`. A
running trial records a heartbeat every `--heartbeat` seconds, and the next trial any worker starts marks a
trial silent for twice that long failed (its worker was killed), so no trial stays RUNNING for ever. Running
the command again with the same `--study` adds trials to it. A new study's first trial is the scale's own
setting of the swept parameters (when it lies in the space), so the summary shows whether the sweep beats
the preset. Every trial finished by this
process is logged as a nested MLflow run under one parent run per invocation, and `<out>/summary.md` (best
trials, parameter importances, the Pareto front, a plot) is rewritten from the whole study at the end.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import optuna
import sqlalchemy
import torch

from baselines.registry import ARMS, build_arm, get_arm
from benchmarks import console
from benchmarks.config import RunConfig, parse_overrides, resolve, scales
from benchmarks.context import case_model_config, prepare_task, resolve_device
from benchmarks.errors import BenchmarkError
from benchmarks.suites.accuracy import run_case
from benchmarks.sweep_space import DEFAULT_SPACE, Dimension, parse_space
from benchmarks.sweep_summary import write_summary
from benchmarks.sweep_tracking import TrialLogger
from benchmarks.tracking import Tracker, resolve_tracking_uri
from hrm.errors import ConfigError
from tasks.base import TaskError
from tasks.registry import TASKS

# objective -> (names of the values it returns, their directions)
OBJECTIVES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "exact": (("exact_accuracy",), ("maximize",)),
    "exact-per-compute": (("exact_accuracy_per_application",), ("maximize",)),
    "pareto": (("exact_accuracy", "block_applications"), ("maximize", "minimize")),
}
PRUNER_STARTUP_TRIALS = 3  # complete trials before the median pruner may stop one
# Exact accuracy stays near 0 for the first part of training whatever the settings (the cpu preset's own HRM
# reads 0.000 at step 500 of 1500 and 0.195 at the end), so early evaluations say little about a trial.
SCHEMA_ATTEMPTS = 5  # tries to open a new server database while other workers create its schema
HEARTBEAT_S = 60  # default --heartbeat: a running trial silent for 2 heartbeats (Optuna's grace) is marked failed


@dataclass
class SweepSettings:
    """One sweep invocation, resolved from the command line."""

    task: str
    arm: str
    scale: str
    trials: int
    study_name: str
    storage: str
    objective: str
    space: list[Dimension]
    out: Path
    overrides: list[str] = field(default_factory=list)
    seed: int = 0
    sampler_seed: int | None = None
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    prune_warmup: float = 0.5  # fraction of the training steps before a trial may be pruned
    heartbeat_s: int = HEARTBEAT_S  # a running trial records a heartbeat this often (seconds)
    verbosity: int = 0  # -q: -1, -v: 1 (benchmarks.console)

    @property
    def metadata(self) -> dict[str, str]:
        """What the study is about; a resumed study must match it."""
        return {"task": self.task, "arm": self.arm, "scale": self.scale, "objective": self.objective}


class TrainingDiverged(Exception):
    """A trial whose training diverged: Optuna records the trial as failed, with this message, and goes on."""


def with_compute(metrics: dict[str, float], applications_per_segment: int) -> dict[str, float]:
    """`metrics` plus `block_applications` per test example: block applications per segment times the mean
    segments the examples used (`mean_segments`, in every evaluation), as the accuracy suite reports it."""
    if "exact_accuracy" not in metrics or "mean_segments" not in metrics:
        raise BenchmarkError(
            f"the accuracy suite's evaluation lacks exact_accuracy or mean_segments (got {', '.join(metrics)})"
        )
    return {**metrics, "block_applications": applications_per_segment * metrics["mean_segments"]}


def objective_values(objective: str, metrics: dict[str, float]) -> tuple[float, ...]:
    """The value(s) Optuna optimises, from metrics `with_compute` (final or at an intermediate evaluation)."""
    accuracy, applications = metrics["exact_accuracy"], metrics["block_applications"]
    if objective == "exact":
        return (accuracy,)
    if objective == "exact-per-compute":
        return (accuracy / applications,)
    return (accuracy, applications)


def applications_per_segment(config: RunConfig, task: str, arm: str) -> int:
    """Block applications per segment of `arm` built for `task` exactly as the accuracy suite builds it."""
    model_config = case_model_config(config, task, arm, prepare_task(config, task).train)
    return build_arm(arm, model_config).block_applications_per_segment()


def _sampler(settings: SweepSettings, existing_trials: int) -> optuna.samplers.BaseSampler:
    # A resumed study continues from a new seed, so its random start-up trials do not repeat the first ones.
    seed = settings.sampler_seed if settings.sampler_seed is not None else settings.seed + existing_trials
    if settings.objective == "pareto":
        return optuna.samplers.NSGAIISampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def _storage(settings: SweepSettings) -> optuna.storages.RDBStorage:
    """The study database, with heartbeats (so the next worker marks a killed worker's trial failed instead of
    leaving it running). Workers that start together on a new server database race to create Optuna's schema:
    the losers' CREATE fails on what the winner just made, so it is tried again (the schema then exists)."""
    def connect() -> optuna.storages.RDBStorage:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeats are "experimental"
            return optuna.storages.RDBStorage(settings.storage, heartbeat_interval=settings.heartbeat_s)

    for attempt in range(SCHEMA_ATTEMPTS - 1):
        try:
            return connect()
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            time.sleep(0.5 * (attempt + 1))
    return connect()


def open_study(settings: SweepSettings, config: RunConfig) -> optuna.Study:
    """Create the study, or load it when one of that name exists and was made for the same sweep."""
    names, directions = OBJECTIVES[settings.objective]
    try:
        storage = _storage(settings)
        existing = {s.study_name: s.n_trials for s in optuna.get_all_study_summaries(storage)}
    except (sqlalchemy.exc.SQLAlchemyError, ValueError, ImportError) as error:
        raise BenchmarkError(f"--storage {_masked(settings.storage)}: cannot open ({error})") from None
    warmup = int(settings.prune_warmup * config.train_for(settings.task).steps)
    pruner = (
        optuna.pruners.MedianPruner(n_startup_trials=PRUNER_STARTUP_TRIALS, n_warmup_steps=warmup)
        if len(directions) == 1 else optuna.pruners.NopPruner()
    )
    if settings.study_name in existing:
        study = optuna.load_study(study_name=settings.study_name, storage=storage,
                                  sampler=_sampler(settings, existing[settings.study_name]), pruner=pruner)
        found = {key: study.user_attrs.get(key) for key in settings.metadata}
        if found != settings.metadata:
            raise BenchmarkError(
                f"study {settings.study_name!r} in {_masked(settings.storage)} was made for {found}, not "
                f"{settings.metadata}; choose another --study name"
            )
        return study
    study = optuna.create_study(storage=storage, study_name=settings.study_name, directions=directions,
                                sampler=_sampler(settings, 0), pruner=pruner, load_if_exists=True)
    study.set_metric_names(list(names))  # what optuna-dashboard and trials_dataframe call the objectives
    for key, value in {**settings.metadata, "objective_names": list(names)}.items():
        study.set_user_attr(key, value)
    if study.trials:  # another worker created it first and has already seeded it
        return study
    scale_values = _scale_values(settings, config)
    if scale_values is not None:  # the first trial is the scale's own setting: does the sweep beat it?
        study.enqueue_trial(scale_values)
    return study


def _scale_values(settings: SweepSettings, config: RunConfig) -> dict[str, int | float] | None:
    """The swept dimensions' values in the scale's resolved config (with --set), when all lie in the space."""
    case = config.case(settings.task, settings.arm)
    values = {}
    for dimension in settings.space:
        (override,) = parse_overrides([dimension.override(dimension.low)])  # where the dimension's key lands
        section, _, name = override.target.partition(".")
        resolved = {"model": case.model, "optim": case.optim, "train": case.train, "task": case.task_config}
        value = getattr(resolved.get(section) or config.suite(section), name)
        if not dimension.low <= value <= dimension.high:
            return None
        values[dimension.name] = value
    return values


# What a trial keeps of each periodic evaluation (besides its objective's values): the trial page of
# optuna-dashboard shows the attribute whole, and a dozen ARC scores per evaluation made it thousands of
# pixels long. The final evaluation's metrics are kept in full.
EVALUATION_KEPT = ("exact_accuracy", "token_accuracy", "mean_segments")


def compact(metrics: dict[str, float], objective: str) -> dict[str, float]:
    """An evaluation's objective values and EVALUATION_KEPT, to 4 significant digits."""
    kept = dict.fromkeys((*OBJECTIVES[objective][0], *EVALUATION_KEPT))
    return {name: float(f"{metrics[name]:.4g}") for name in kept if name in metrics}


def make_objective(settings: SweepSettings) -> Callable[[optuna.Trial], tuple[float, ...]]:
    """The function Optuna calls per trial: train and evaluate one case with the trial's values."""
    prune = settings.objective != "pareto"

    def objective(trial: optuna.Trial) -> tuple[float, ...]:
        overrides = [*settings.overrides, *(d.override(d.suggest(trial)) for d in settings.space)]
        trial.set_user_attr("overrides", overrides)
        config = resolve(settings.scale, overrides)
        per_segment = applications_per_segment(config, settings.task, settings.arm)
        evaluations: list[tuple[int, dict[str, float]]] = []

        def on_eval(step: int, metrics: dict[str, float]) -> None:
            metrics = with_compute(metrics, per_segment)
            evaluations.append((step, compact(metrics, settings.objective)))
            if prune:
                trial.report(objective_values(settings.objective, metrics)[0], step)
                if step < config.train_for(settings.task).steps and trial.should_prune():  # keep finished runs
                    raise optuna.TrialPruned(f"pruned at step {step}")

        try:
            result = run_case(config, settings.task, settings.arm, settings.seed, device=settings.device,
                              on_eval=on_eval)
        finally:
            trial.set_user_attr("evaluations", evaluations)
        if result.diverged_at is not None:
            raise TrainingDiverged(f"training diverged at step {result.diverged_at} (non-finite loss or gradient)")
        metrics = with_compute(result.metrics, per_segment)
        trial.set_user_attr("metrics", metrics)
        return objective_values(settings.objective, metrics)

    return objective


def _masked(url: str) -> str:
    """A database URL with its password hidden, for messages and the summary."""
    try:
        return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return url


PROBED_INTEGERS = 64  # an integer range up to this wide is checked at every value, a wider one at 64 of them


def probe_values(dimension: Dimension) -> list[int | float]:
    """The values of a dimension checked before the first trial: every integer of a narrow integer range
    (a constraint such as `hidden_size % num_heads == 0` can reject values inside a valid range), else both
    ends and points spread between them (on a log scale for log ranges)."""
    low, high = dimension.low, dimension.high
    if isinstance(low, int) and high - low < PROBED_INTEGERS:
        return list(range(low, high + 1))
    count = PROBED_INTEGERS if isinstance(low, int) else 9
    if dimension.log:
        points = [low * (high / low) ** (i / (count - 1)) for i in range(count)]
    else:
        points = [low + (high - low) * i / (count - 1) for i in range(count)]
    if isinstance(low, int):
        return sorted({min(high, max(low, round(point))) for point in points})
    return [low, *points[1:-1], high]


def _check_names(settings: SweepSettings) -> RunConfig:
    """Fail before the first trial on an unknown task or arm, or a `--set`/`--space` key or value that the
    config or the model rejects: each dimension is checked at its `probe_values`, the others at their low end."""
    config = resolve(settings.scale, settings.overrides)
    if settings.task not in TASKS:
        raise BenchmarkError(f"--task {settings.task!r}: unknown task; known tasks: {', '.join(TASKS)}")
    if settings.arm not in ARMS:
        raise BenchmarkError(f"--arm {settings.arm!r}: unknown arm; known arms: {', '.join(ARMS)}")
    lows = [d.override(d.low) for d in settings.space]
    for index, dimension in enumerate(settings.space):
        for value in probe_values(dimension):
            trial = [*lows[:index], dimension.override(value), *lows[index + 1:]]
            try:
                probe = resolve(settings.scale, [*settings.overrides, *trial])
                case_model_config(probe, settings.task, settings.arm, prepare_task(probe, settings.task).train)
            except (BenchmarkError, ConfigError, TaskError) as error:
                raise BenchmarkError(f"--space {dimension}: the value {value} inside the range is rejected "
                                     f"({error}); narrow the range") from None
    return config


def _header(settings: SweepSettings, tracker: Tracker) -> list[str]:
    """The summary's description of the sweep."""
    names, directions = OBJECTIVES[settings.objective]
    return [
        *(f"- {key}: `{value}`" for key, value in settings.metadata.items()),
        f"- optimising: {', '.join(f'{d} {n}' for d, n in zip(directions, names, strict=True))}",
        f"- space: `{','.join(map(str, settings.space))}`",
        "- loops of " + settings.arm + ": " + ", ".join(f"{field} is {name}" for field, name in
                                                  get_arm(settings.arm).loop_names.items()),
        f"- storage: `{_masked(settings.storage)}`",
        f"- MLflow: `{tracker.tracking_uri}`",
    ]


def run_sweep(settings: SweepSettings) -> Path:
    """Run `settings.trials` more trials, log them, write the summary; returns the summary's path."""
    config = _check_names(settings)
    if config.train.threads:
        torch.set_num_threads(config.train.threads)
    settings.out.mkdir(parents=True, exist_ok=True)
    study = open_study(settings, config)
    root = settings.out.parent  # the results root: one MLflow store for runs and sweeps, as benchmarks.run does
    tracker = Tracker(resolve_tracking_uri(root), artifact_root=root / "mlartifacts")
    with tracker.run(f"sweep/{settings.study_name}", tags={"optuna.study": settings.study_name}) as parent:
        parent.log_params({**settings.metadata, "study": settings.study_name, "storage": _masked(settings.storage),
                           "space": ",".join(map(str, settings.space)), "overrides": " ".join(settings.overrides),
                           "seed": settings.seed, "device": str(settings.device)})
        try:  # a configuration too big for the device, or that diverges, fails its trial (recorded), not the sweep
            study.optimize(make_objective(settings), n_trials=settings.trials,
                           callbacks=[TrialLogger(tracker, parent)], catch=(torch.OutOfMemoryError, TrainingDiverged))
        finally:  # an interrupted or failed sweep still summarises the trials it has
            summary = write_summary(study, settings.out, _header(settings, tracker))
            for path in (summary, *sorted(settings.out.glob("*.png"))):
                parent.log_artifact(path)
    if tracker.error:
        print(f"warning: MLflow tracking failed; the study and summary are complete without it: {tracker.error}",
              file=sys.stderr)
    return summary


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sweep", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    arm = next(iter(ARMS))  # the registry's first arm is the model under study
    parser.add_argument("--task", required=True, help=f"task to train on: {', '.join(TASKS)}")
    parser.add_argument("--arm", default=arm, help=f"arm to tune: {', '.join(ARMS)} (default: {arm})")
    parser.add_argument("--scale", default="cpu", choices=scales(), help="scale preset (default: cpu)")
    parser.add_argument("--trials", type=int, default=20, help="trials to add in this invocation (default: 20)")
    parser.add_argument("--study", help="study name; the same name resumes (default: TASK-ARM-SCALE-OBJECTIVE)")
    parser.add_argument("--storage", help="database URL (default: sqlite:///OUT/optuna.db)")
    parser.add_argument("--objective", default="exact", choices=OBJECTIVES, help="what to optimise (default: exact)")
    parser.add_argument("--space", default=DEFAULT_SPACE,
                        help="NAME=LOW:HIGH or NAME=log:LOW:HIGH items, comma-separated; NAME is N, T, Mmax, lr or a "
                             f"config key such as model.hidden_size (default: {DEFAULT_SPACE})")
    parser.add_argument("--out", type=Path, help="results directory (default: results/sweep-STUDY)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="config override applied to every trial, as in benchmarks.run; repeatable")
    parser.add_argument("--seed", type=int, default=0, help="model seed of every trial (default: 0)")
    parser.add_argument("--sampler-seed", type=int,
                        help="sampler seed (default: --seed plus the trials already in the study); give each "
                             "concurrent worker its own")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="device (default: auto)")
    parser.add_argument("--prune-warmup", type=float, default=0.5,
                        help="fraction of the training steps before a trial may be pruned (default: 0.5)")
    parser.add_argument("--heartbeat", type=int, default=HEARTBEAT_S,
                        help="seconds between a running trial's heartbeats; the next worker to start a trial marks "
                             "one silent for twice as long failed (a killed worker's) (default: 60)")
    console.add_verbosity(parser)
    return parser


def settings_from_args(argv: list[str] | None = None) -> SweepSettings:
    args = _parser().parse_args(argv)
    if args.trials < 1:
        raise BenchmarkError(f"--trials must be >= 1, got {args.trials}")
    if args.heartbeat < 1:
        raise BenchmarkError(f"--heartbeat must be >= 1 second, got {args.heartbeat}")
    if not 0.0 <= args.prune_warmup <= 1.0:
        raise BenchmarkError(f"--prune-warmup must be in [0, 1], got {args.prune_warmup}")
    study = args.study or f"{args.task}-{args.arm}-{args.scale}-{args.objective}"
    out = args.out or Path("results") / f"sweep-{study}"
    return SweepSettings(
        task=args.task, arm=args.arm, scale=args.scale, trials=args.trials, study_name=study,
        storage=args.storage or f"sqlite:///{out.resolve() / 'optuna.db'}", objective=args.objective,
        space=parse_space(args.space, args.arm), out=out, overrides=args.overrides, seed=args.seed,
        sampler_seed=args.sampler_seed, device=resolve_device(args.device), prune_warmup=args.prune_warmup,
        heartbeat_s=args.heartbeat, verbosity=args.verbosity,
    )


def main(argv: list[str] | None = None) -> int:
    try:  # console.configure quiets Optuna's info lines too (unless -v)
        settings = settings_from_args(argv)
        console.configure(settings.verbosity)
        summary = run_sweep(settings)
    except (BenchmarkError, ConfigError, TaskError) as error:  # bad input: one line, no traceback
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(summary.read_text())
    print(f"Summary written to {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
