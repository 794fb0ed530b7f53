"""The Markdown summary of a sweep study: best trials, parameter importances, Pareto front, plots.

Everything is read back from the study itself (its trials, their user attributes and the study's
`objective_names` attribute), so the summary can be regenerated from the storage alone and covers the
trials of every worker and every resumed session.
"""

from __future__ import annotations

import math
from pathlib import Path

import optuna
from matplotlib.figure import Figure  # no pyplot: no global figure state, no GUI backend
from optuna.trial import FrozenTrial, TrialState
from tabulate import tabulate

from tasks.files import save_figure_atomic, write_text_atomic

MIN_TRIALS_FOR_IMPORTANCE = 5  # PED-ANOVA compares the top 10% (at least 2 trials) with the rest
SHOWN_METRICS = ("exact_accuracy", "token_accuracy", "block_applications", "train_wall_s")
SUMMARY_FILE = "summary.md"


def _complete(study: optuna.Study) -> list[FrozenTrial]:
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _trial_table(study: optuna.Study, trials: list[FrozenTrial]) -> str:
    """One row per trial: number, parameters, objective value(s) and the case's headline metrics."""
    param_names = list(dict.fromkeys(name for trial in trials for name in trial.params))  # in --space order
    objective_names = study.user_attrs["objective_names"]
    shown = [name for name in SHOWN_METRICS if name not in objective_names]
    rows = [
        [trial.number]
        + [_format(trial.params.get(name)) for name in param_names]
        + [_format(value) for value in trial.values]
        + [_format(trial.user_attrs.get("metrics", {}).get(name)) for name in shown]
        for trial in trials
    ]
    headers = ["trial", *param_names, *objective_names, *shown]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def _best_trials(study: optuna.Study, top: int) -> list[FrozenTrial]:
    """Single objective: the `top` complete trials, best first. Several objectives: the Pareto front,
    ordered by the last objective (compute)."""
    if len(study.directions) > 1:
        return sorted(study.best_trials, key=lambda trial: trial.values[-1])
    sign = -1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else 1.0
    return sorted(_complete(study), key=lambda trial: sign * trial.values[0])[:top]


def importance_section(study: optuna.Study) -> str:
    """PED-ANOVA parameter importances (Optuna's default evaluator; needs no scikit-learn), or why not."""
    complete = _complete(study)
    if len(complete) < MIN_TRIALS_FOR_IMPORTANCE:
        return (
            f"Not estimated: {len(complete)} complete trial(s), at least {MIN_TRIALS_FOR_IMPORTANCE} are needed "
            "for the top trials to differ from the rest."
        )
    if len(study.directions) == 1 and len({trial.values[0] for trial in complete}) == 1:
        return f"Not estimated: all {len(complete)} complete trials have the same objective value."
    importances = optuna.importance.get_param_importances(study)
    what = "reaching the Pareto front" if len(study.directions) > 1 else "the objective"
    table = tabulate(
        [(name, f"{value:.3f}") for name, value in importances.items()],
        headers=("parameter", f"importance for {what}"),
        tablefmt="github",
        disable_numparse=True,
    )
    return table


def _plot_history(study: optuna.Study, path: Path) -> None:
    """Objective value per trial number, with the best value so far."""
    complete = _complete(study)
    numbers = [trial.number for trial in complete]
    values = [trial.values[0] for trial in complete]
    maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
    best, best_so_far = -math.inf if maximize else math.inf, []
    for value in values:
        best = max(best, value) if maximize else min(best, value)
        best_so_far.append(best)
    figure = Figure(figsize=(6, 4))
    axes = figure.subplots()
    axes.scatter(numbers, values, label="complete trial")
    axes.step(numbers, best_so_far, where="post", color="C1", label="best so far")
    axes.set_xlabel("trial")
    axes.set_ylabel(study.user_attrs["objective_names"][0])
    axes.legend()
    figure.tight_layout()
    save_figure_atomic(figure, path, dpi=100)


def _plot_pareto(study: optuna.Study, path: Path) -> None:
    """First objective (accuracy) against the last (compute), the front joined in order of compute."""
    names = study.user_attrs["objective_names"]
    complete = _complete(study)
    front = _best_trials(study, top=0)
    figure = Figure(figsize=(6, 4))
    axes = figure.subplots()
    axes.scatter([t.values[-1] for t in complete], [t.values[0] for t in complete], color="C0", label="trial")
    axes.plot([t.values[-1] for t in front], [t.values[0] for t in front], "o-", color="C3", label="Pareto front")
    axes.set_xlabel(names[-1])
    axes.set_ylabel(names[0])
    axes.legend()
    figure.tight_layout()
    save_figure_atomic(figure, path, dpi=100)


def write_summary(study: optuna.Study, out_dir: Path, header: list[str], top: int = 5) -> Path:
    """Write `summary.md` (and its PNG) under `out_dir`; `header` lines describe the sweep. Returns the path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    states = [trial.state for trial in study.get_trials(deepcopy=False)]
    counts = ", ".join(f"{states.count(state)} {state.name.lower()}" for state in TrialState if state in states)
    multi = len(study.directions) > 1
    lines = [f"# Sweep `{study.study_name}`", "", *header, f"- trials: {len(states)} ({counts or 'none'})", ""]
    best = _best_trials(study, top)
    lines += ["## Pareto front" if multi else f"## Best trials (top {top})", ""]
    lines += [_trial_table(study, best) if best else "No complete trial yet.", ""]
    lines += ["## Parameter importances", "", importance_section(study), ""]
    if best:
        plot = "pareto.png" if multi else "history.png"
        (_plot_pareto if multi else _plot_history)(study, out_dir / plot)
        lines += ["## Plot", "", f"![{plot[:-4]}]({plot})", ""]
    return write_text_atomic(out_dir / SUMMARY_FILE, "\n".join(lines))
