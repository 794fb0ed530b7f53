"""Each finished Optuna trial as a nested MLflow run (our own callback, not optuna_integration).

The objective stores what the trial measured in the trial's user attributes ("metrics": the final test
metrics, "evaluations": [(step, the objective's values and the accuracies), ...] from the periodic
evaluations, "overrides": the `--set` items it ran with); the callback, called by `study.optimize` after
every trial of this process, copies them into a run nested under the sweep's parent run. It goes through
`benchmarks.tracking`, so an MLflow failure is recorded on the tracker and never stops the sweep.
"""

from __future__ import annotations

import math

import optuna
from optuna.trial import FrozenTrial, TrialState

from benchmarks.tracking import TrackedRun, Tracker


class TrialLogger:
    """`study.optimize(..., callbacks=[TrialLogger(tracker, parent)])`."""

    def __init__(self, tracker: Tracker, parent: TrackedRun) -> None:
        self.tracker = tracker
        self.parent = parent

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        tags = {"optuna.study": study.study_name, "optuna.trial": str(trial.number), "optuna.state": trial.state.name}
        with self.tracker.run(f"trial {trial.number}", parent=self.parent, tags=tags) as run:
            run.log_params({**trial.params, "overrides": " ".join(trial.user_attrs.get("overrides", []))})
            series: dict[str, list[tuple[int, float]]] = {}
            for step, metrics in trial.user_attrs.get("evaluations", []):
                for name, value in metrics.items():
                    if _finite(value):
                        series.setdefault(f"eval_{name}", []).append((step, value))
            run.log_series(series)
            final = dict(trial.user_attrs.get("metrics", {}))  # absent for pruned and failed trials
            if trial.state == TrialState.COMPLETE:
                names = study.user_attrs["objective_names"]
                final.update({f"objective_{name}": value for name, value in zip(names, trial.values, strict=True)})
            run.log_metrics({name: value for name, value in final.items() if _finite(value)})


def _finite(value) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
