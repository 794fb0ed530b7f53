"""Claims suite: a verdict, with its 95% interval and n, on each of the paper's claims (`baselines.claims`).

Every claim is measured per task on the models the accuracy suite trained in this invocation (every seed; a
case it did not train is trained here, in `cases/claims-*`), so the claims add evaluations and probes, not
training. Intervals and verdicts come from `benchmarks.statistics` (scipy.stats): across seeds for
accuracies (differences paired by seed, on one test set), a bootstrap over test examples for correlations and
hidden-state statistics, exact for bytes saved for backward. Probes of hidden states (C6, C7) use the first
seed's model on the first `claims.examples` test examples.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from baselines.claims import CLAIMS, Claim
from baselines.registry import build_arm
from benchmarks import engine, plots
from benchmarks.context import SuiteContext, TrainedModel, case_model_config, prepare_task
from benchmarks.errors import BenchmarkError
from benchmarks.estimate import CostModel
from benchmarks.evaluation import Evaluation, evaluate_split, to_device
from benchmarks.progress import Work
from benchmarks.record import Record
from benchmarks.statistics import Estimate, across_seeds, bootstrap, exact, paired_difference, rank_correlation, verdict
from benchmarks.suite import Suite, markdown_table, task_figures
from benchmarks.suites.accuracy import trained_model
from benchmarks.suites.memory import LOOPS, loop_sweep, memory_cost, slope
from benchmarks.training_state import load_weights
from tasks.base import Task
from tasks.dataset import test_batches
from tasks.metric import Metric

RULE = ("Verdicts: an effect's 95% interval (Student t over seeds for accuracies, differences paired by seed on "
        "the same test set; BCa bootstrap over test examples for correlations and hidden-state statistics; exact "
        "for bytes) decides. A claim that the effect is positive is supported when the whole interval is above 0 "
        "and contradicted when it is below 0; a claim that an arm trains as well as another (C2) is supported "
        "when the interval's low end is above -0.05 and contradicted when its high end is below -0.05; a claim "
        "of several parts (C1, C4a, C6) is supported when every part is, contradicted when any part is. "
        "Anything else, and one seed, is inconclusive.")


@dataclass
class ClaimsConfig:
    """How many test examples the hidden-state probes (C6, C7) read."""

    examples: int = 256

    def __post_init__(self) -> None:
        if self.examples < 3:
            raise BenchmarkError(f"claims.examples must be >= 3 (a bootstrap needs examples), got {self.examples}")


@dataclass
class Measured:
    """What one claim's method found."""

    effect: Estimate
    verdict: str
    measure: str  # what the effect is, in words
    seeds: int
    examples: int
    extras: dict[str, float] = field(default_factory=dict)
    series: dict[str, list[list[float]]] | None = None
    note: str = ""


class _Cases:
    """The trained cases, loaded models and evaluations one run's claims share."""

    def __init__(self, ctx: SuiteContext) -> None:
        self.ctx = ctx
        self.evaluations: dict[tuple, Evaluation] = {}
        self.models: dict[Path, object] = {}  # checkpoint -> its loaded model, read from disk once

    def trained(self, task: str, arm: str) -> list[tuple[int, TrainedModel]]:
        """(seed, trained case) for every seed of the run that did not diverge."""
        cases = [(seed, trained_model(self.ctx, self.ctx.config, task, arm, seed, "claims")) for seed in self.ctx.seeds]
        return [(seed, case) for seed, case in cases if case.diverged_at is None]

    def model(self, arm: str, case: TrainedModel):
        if case.checkpoint not in self.models:
            model = build_arm(arm, case.model_config)
            self.models[case.checkpoint] = load_weights(case.checkpoint, model).to(self.ctx.device).eval()
        return self.models[case.checkpoint]

    def evaluate(self, task: str, arm: str, seed: int, case: TrainedModel, budget: int, mode: str) -> Evaluation:
        key = (task, arm, seed, budget, mode)
        if key not in self.evaluations:
            prepared = prepare_task(self.ctx.config, task)
            batch_size = self.ctx.config.train_for(task).batch_size
            self.evaluations[key] = evaluate_split(self.model(arm, case), prepared.test, prepared.task,
                                                   batch_size=batch_size, halt_max_steps=budget, mode=mode,
                                                   device=self.ctx.device)
        return self.evaluations[key]

    def probe_batch(self, task: str) -> dict[str, torch.Tensor]:
        prepared = prepare_task(self.ctx.config, task)
        count = min(self.ctx.config.suite("claims").examples, len(prepared.test.inputs))
        batch, real = next(test_batches(prepared.test, count))
        return {key: value[:real] for key, value in to_device(batch, self.ctx.device).items()}


def _combined(verdicts: list[str]) -> str:
    if all(v == "supported" for v in verdicts):
        return "supported"
    return "contradicted" if "contradicted" in verdicts else "inconclusive"


def _memory(cases: _Cases, task: str, claim: Claim) -> Measured:
    ctx = cases.ctx
    settings = ctx.config.suite("memory")
    prepared = prepare_task(ctx.config, task)
    batch = to_device(next(test_batches(prepared.test, settings.batch_size))[0], ctx.device)
    slopes = {}
    for role, arm in (("subject", claim.subject), ("control", claim.control)):
        base = case_model_config(ctx.config, task, arm, prepared.train)
        for loop in LOOPS:
            values = list(getattr(settings, f"{loop}_values"))
            points = loop_sweep(arm, base, loop, values, batch, ctx.device)
            slopes[f"{role}_slope_vs_{loop}"] = slope(values, [point["saved_bytes"] for point in points])
    subject = [slopes[f"subject_slope_vs_{loop}"] for loop in LOOPS]
    control = [slopes[f"control_slope_vs_{loop}"] for loop in LOOPS]
    holds = all(value == 0 for value in subject) and all(value > 0 for value in control)
    points = sum(len(getattr(settings, f"{loop}_values")) for loop in LOOPS)
    return Measured(exact(max(subject), points), "supported" if holds else "contradicted",
                    f"largest slope of {claim.subject}'s saved bytes (B per loop iteration)", 0, 0, slopes)


def _final_exact(cases: list[tuple[int, TrainedModel]]) -> dict[int, float]:
    return {seed: case.metrics["exact_accuracy"] for seed, case in cases}


def _paired(subject: dict[int, float], control: dict[int, float]) -> tuple[Estimate, list[int]]:
    seeds = [seed for seed in subject if seed in control and math.isfinite(subject[seed])
             and math.isfinite(control[seed])]
    return paired_difference([subject[s] for s in seeds], [control[s] for s in seeds]), seeds


def _at_a_bound(*accuracies: dict[int, float]) -> str:
    """A note when every compared accuracy is 0 (or every one is 1): no difference can show there."""
    values = [value for found in accuracies for value in found.values()]
    for bound, word in ((0.0, "floor"), (1.0, "ceiling")):
        if values and all(value == bound for value in values):
            return f"every compared run is at the {word} ({bound:g})"
    return ""


def _comparison(effect: Estimate, claim: Claim, note: str) -> str:
    return "inconclusive" if note else verdict(effect, claim.direction, claim.margin)


def _accuracy(cases: _Cases, task: str, claim: Claim) -> Measured:
    subject, control = cases.trained(task, claim.subject), cases.trained(task, claim.control)
    finals = _final_exact(subject), _final_exact(control)
    effect, seeds = _paired(*finals)
    means = {f"{role}_exact_accuracy": across_seeds(list(found.values())).value
             for role, found in zip(("subject", "control"), finals, strict=True)}
    note = _at_a_bound(*finals)
    return Measured(effect, _comparison(effect, claim, note), f"exact accuracy, {claim.subject} minus {claim.control}",
                    len(seeds), _examples(subject), means, note=note)


def _examples(cases: list[tuple[int, TrainedModel]]) -> int:
    return int(cases[0][1].metrics.get("examples", 0)) if cases else 0


def _accuracy_within(case: TrainedModel, seconds: float) -> float:
    """Test exact accuracy at the last evaluation reached within `seconds` of training (steps taken at a
    constant rate), or NaN when none was."""
    steps, wall = case.metrics["steps_trained"], case.metrics["train_wall_s"]
    reached = [value for step, value in case.series.get("test_exact_accuracy", [])
               if wall * step / max(steps, 1) <= seconds * (1 + 1e-9)]
    return reached[-1] if reached else math.nan


def _equal_time(cases: _Cases, task: str, claim: Claim) -> Measured:
    subject, control = dict(cases.trained(task, claim.subject)), dict(cases.trained(task, claim.control))
    budgets = {seed: min(subject[seed].metrics["train_wall_s"], control[seed].metrics["train_wall_s"])
               for seed in subject if seed in control}
    within = ({seed: _accuracy_within(subject[seed], t) for seed, t in budgets.items()},
              {seed: _accuracy_within(control[seed], t) for seed, t in budgets.items()})
    effect, seeds = _paired(*within)
    extras = {"training_seconds": float(np.mean(list(budgets.values()))) if budgets else math.nan}
    note = _at_a_bound(*within)
    return Measured(effect, _comparison(effect, claim, note),
                    f"exact accuracy within the shorter run's training time, {claim.subject} minus {claim.control}",
                    len(seeds), _examples(list(subject.items())), extras, note=note)


def _act_savings(cases: _Cases, task: str, claim: Claim) -> Measured:
    saved, kept = [], []
    found = cases.trained(task, claim.subject)
    for seed, case in found:
        budget = case.model_config.halt_max_steps
        halting = cases.evaluate(task, claim.subject, seed, case, budget, "act")
        fixed = cases.evaluate(task, claim.subject, seed, case, budget, "fixed")
        saved.append(1 - halting.metrics["mean_segments"] / budget)
        kept.append(halting.metrics["exact_accuracy"] - fixed.metrics["exact_accuracy"])
    savings, change = across_seeds(saved), across_seeds(kept)
    result = _combined([verdict(savings, "higher"), verdict(change, "not_lower", claim.margin)])
    extras = {"exact_accuracy_change": change.value, "exact_accuracy_change_low": change.low,
              "exact_accuracy_change_high": change.high}
    return Measured(savings, result, "share of the segment budget saved by ACT halting", len(found),
                    _examples(found), extras)


def _difficulty(cases: _Cases, task: str, claim: Claim) -> Measured:
    prepared = prepare_task(cases.ctx.config, task)
    measured = prepared.task.difficulty(prepared.test)
    found = cases.trained(task, claim.subject)
    if measured is None or not found:
        return Measured(Estimate(math.nan, math.nan, math.nan, 0), "inconclusive",
                        "rank correlation of segments used with difficulty", len(found), 0,
                        note="the task has no difficulty measure" if measured is None else "no trained model")
    name, difficulty = measured
    segments = np.mean([cases.evaluate(task, claim.subject, seed, case, case.model_config.halt_max_steps, "act")
                        .segments for seed, case in found], axis=0)
    effect = rank_correlation(difficulty, segments)
    note = "" if math.isfinite(effect.value) else "segments used (or difficulty) are the same for every example"
    series = {"segments_vs_difficulty": [[float(d), float(s)] for d, s in zip(difficulty, segments, strict=True)]}
    return Measured(effect, verdict(effect, "higher"), f"Spearman correlation of segments used with {name}",
                    len(found), len(difficulty), series=series, note=note)


def _scaling(cases: _Cases, task: str, claim: Claim) -> Measured:
    found = cases.trained(task, claim.subject)
    curves: dict[int, list[float]] = {}
    gains = []
    for seed, case in found:
        budget = case.model_config.halt_max_steps
        for factor in (1, 2, 4):
            curves.setdefault(factor * budget, []).append(
                cases.evaluate(task, claim.subject, seed, case, factor * budget, "fixed").metrics["exact_accuracy"])
        gains.append(curves[claim.factor * budget][-1] - curves[budget][-1])
    effect = across_seeds(gains)
    series = {"exact_vs_budget": [[float(b), e.value, e.low, e.high] for b, e in
                                  ((b, across_seeds(values)) for b, values in sorted(curves.items()))]}
    return Measured(effect, verdict(effect, "higher"),
                    f"exact accuracy at {claim.factor}x the training budget minus at the training budget",
                    len(found), _examples(found), series=series)


def _residuals(states: list[tuple[str, torch.Tensor, torch.Tensor]], start: tuple[torch.Tensor, torch.Tensor]
               ) -> np.ndarray:
    """[updates, examples]: ||z_t - z_(t-1)|| / ||z_t|| of the state each update changed (z_L or z_H)."""
    rows, previous = [], {"H": start[0], "L": start[1]}
    for module, z_H, z_L in states:
        current = z_H if module == "H" else z_L
        change = (current - previous[module]).flatten(1).norm(dim=1) / current.flatten(1).norm(dim=1)
        rows.append(change.float().cpu().numpy())
        previous[module] = current
    return np.stack(rows)


def _probe(cases: _Cases, task: str, claim: Claim) -> tuple[object, TrainedModel, int, dict] | None:
    found = cases.trained(task, claim.subject)
    if not found:
        return None
    seed, case = found[0]
    model = cases.model(claim.subject, case)
    if not hasattr(model.core, "trajectory"):
        return None
    return model, case, seed, cases.probe_batch(task)


def _convergence(cases: _Cases, task: str, claim: Claim) -> Measured:
    probed = _probe(cases, task, claim)
    if probed is None:
        return _not_applicable(claim, "the arm has no two-level state to trace")
    model, case, _, batch = probed
    core = model.core
    start = core.initial_state(batch["inputs"].shape[0], batch["inputs"].device)
    schedule = core.schedule()
    hier = _residuals(core.trajectory(start, batch), start)
    flat = _residuals(core.trajectory(start, batch, flat=True), start)
    L = [index for index, module in enumerate(schedule) if module == "L"]
    H = [index for index, module in enumerate(schedule) if module == "H"]
    cycles, steps = case.model_config.H_cycles, case.model_config.L_cycles
    firsts, lasts = L[::steps], L[steps - 1::steps]  # each cycle's first and last L update
    if cycles < 2:
        return _not_applicable(claim, "one H cycle per segment: no H update to re-converge after")
    jump = np.mean([(hier[firsts[c]] - hier[lasts[c - 1]]) - (flat[firsts[c]] - flat[lasts[c - 1]])
                    for c in range(1, cycles)], axis=0)
    parts = {"jump": bootstrap((jump,), np.mean)}
    if steps >= 2:
        parts["fall_within_cycle"] = bootstrap((np.mean([hier[firsts[c]] - hier[lasts[c]] for c in range(cycles)],
                                                        axis=0),), np.mean)
    parts["z_H_fall"] = bootstrap((hier[H[0]] - hier[H[-1]],), np.mean)
    extras = {f"{name}{suffix}": value for name, estimate in parts.items() if name != "jump"
              for suffix, value in (("", estimate.value), ("_low", estimate.low), ("_high", estimate.high))}
    series = {"hrm_z_L": [[i + 1, float(hier[i].mean())] for i in L],
              "hrm_z_H": [[i + 1, float(hier[i].mean())] for i in H],
              "flat_z_L": [[i + 1, float(flat[i].mean())] for i in range(len(schedule))]}
    return Measured(parts["jump"], _combined([verdict(estimate, "higher") for estimate in parts.values()]),
                    "z_L's residual jump after an H update, minus a flat recurrence's at the same update",
                    1, len(jump), extras, series)


def participation_ratio(states: np.ndarray) -> float:
    """(sum of covariance eigenvalues)^2 / sum of their squares, of the rows of `states` [samples, d]."""
    covariance = np.cov(states, rowvar=False)
    return float(np.trace(covariance) ** 2 / np.sum(covariance * covariance))


def _dimensionality(cases: _Cases, task: str, claim: Claim) -> Measured:
    probed = _probe(cases, task, claim)
    if probed is None:
        return _not_applicable(claim, "the arm has no two-level state to trace")
    trained, case, seed, batch = probed
    engine.seed_everything(seed)
    initial = build_arm(claim.subject, case.model_config).to(cases.ctx.device).eval()  # the same seed's init
    finals = {}
    for name, model in (("trained", trained), ("initial", initial)):
        start = model.core.initial_state(batch["inputs"].shape[0], batch["inputs"].device)
        _, z_H, z_L = model.core.trajectory(start, batch)[-1]
        finals[name] = (z_H.double().cpu().numpy(), z_L.double().cpu().numpy())

    def ratio(name: str, rows: np.ndarray) -> float:
        z_H, z_L = (values[rows.astype(int)] for values in finals[name])
        dims = z_H.shape[-1]
        return participation_ratio(z_H.reshape(-1, dims)) / participation_ratio(z_L.reshape(-1, dims))

    rows = np.arange(len(finals["trained"][0]), dtype=float)
    effect = bootstrap((rows,), lambda r: ratio("trained", r) - ratio("initial", r))
    extras = {"ratio_trained": ratio("trained", rows), "ratio_initial": ratio("initial", rows),
              **{f"participation_{level}_{name}": participation_ratio(values.reshape(-1, values.shape[-1]))
                 for name, pair in finals.items() for level, values in zip(("z_H", "z_L"), pair, strict=True)}}
    return Measured(effect, verdict(effect, "higher"),
                    "participation ratio of z_H over z_L, trained minus at initialisation", 1, len(rows), extras)


def _not_applicable(claim: Claim, why: str) -> Measured:
    return Measured(Estimate(math.nan, math.nan, math.nan, 0), "inconclusive", why, 0, 0, note=why)


def _bounds(name: str, text: str) -> dict[str, str]:
    return {name: text, f"{name}_low": f"low end of the 95% interval of {name}",
            f"{name}_high": f"high end of the 95% interval of {name}"}


EXTRAS: dict[str, str] = {  # the methods' further numbers, declared once
    **{f"{role}_slope_vs_{loop}": f"the {role} arm's saved bytes per unit of {loop}"
       for role in ("subject", "control") for loop in LOOPS},
    "subject_exact_accuracy": "the subject arm's mean exact accuracy over seeds",
    "control_exact_accuracy": "the control arm's mean exact accuracy over seeds",
    "training_seconds": "the shorter run's training time, mean over seeds",
    **_bounds("exact_accuracy_change", "exact accuracy with ACT halting minus with the whole budget"),
    **_bounds("fall_within_cycle", "z_L's residual at a cycle's first update minus at its last"),
    **_bounds("z_H_fall", "z_H's residual at the first H update minus at the last"),
    "ratio_trained": "participation ratio of z_H over z_L, trained", "ratio_initial": "the same at initialisation",
    **{f"participation_{level}_{name}": f"participation ratio of {level}, {name}"
       for level in ("z_H", "z_L") for name in ("trained", "initial")},
}

# The evaluations (mode, multiple of the training budget) each method runs per seed, for the cost estimate.
_EVALUATIONS = {"act_savings": (("act", 1), ("fixed", 1)), "difficulty": (("act", 1),),
                "scaling": (("fixed", 1), ("fixed", 2), ("fixed", 4))}

METHODS: dict[str, Callable[[_Cases, str, Claim], Measured]] = {
    "memory": _memory, "accuracy": _accuracy, "equal_time": _equal_time, "act_savings": _act_savings,
    "difficulty": _difficulty, "scaling": _scaling, "residuals": _convergence, "participation": _dimensionality,
}


class ClaimsSuite(Suite):
    name = "claims"
    title = "Claims"
    note = RULE
    settings_class = ClaimsConfig
    scales = {"smoke": {"claims.examples": 16}}
    leads_report = True

    def run(self, ctx: SuiteContext) -> Iterator[Record]:
        """One record per task x claim whose arms are selected, in the registry's order."""
        cases = _Cases(ctx)
        for task in ctx.tasks:
            for claim in CLAIMS:
                arms = [arm for arm in (claim.subject, claim.control) if arm is not None]
                if not all(arm in ctx.arms for arm in arms):
                    continue
                if claim.method not in METHODS:
                    raise BenchmarkError(f"claim {claim.id}: unknown method {claim.method!r}; known: "
                                         f"{', '.join(METHODS)}")
                measured = METHODS[claim.method](cases, task, claim)
                record = _record(task, claim, measured, ctx)
                yield record
                ctx.progress.finish(("claims", task, claim.id),
                                    f"claims: {claim.id} on {task}: {record.labels.get('verdict', '')}")

    def work(self, ctx: SuiteContext, costs: CostModel) -> list[Work]:
        """One item per task x selected claim: the evaluations (per seed) and loop sweeps it is the first to
        need (later claims reuse them), and training where no earlier suite trained the arms."""
        items, seen = [], set()
        seeds = len(ctx.seeds)
        for task in ctx.tasks:
            for claim in CLAIMS:
                arms = [arm for arm in (claim.subject, claim.control) if arm is not None]
                if not all(arm in ctx.arms for arm in arms) or claim.method not in METHODS:
                    continue
                cost = 0.0
                for arm in arms:
                    if "accuracy" not in ctx.suites and (task, arm) not in seen:
                        cost += seeds * costs.case_s(ctx.config, task, arm)
                    seen.add((task, arm))
                if claim.method == "memory":
                    cost += sum(memory_cost(ctx.config, costs, task, arm) for arm in arms)
                budget = costs.model_config(ctx.config, task, claim.subject).halt_max_steps
                for mode, factor in _EVALUATIONS.get(claim.method, ()):
                    if (task, claim.subject, mode, factor) not in seen:
                        seen.add((task, claim.subject, mode, factor))
                        cost += seeds * costs.evaluation_s(ctx.config, task, claim.subject, budget * factor)
                items.append(Work(("claims", task, claim.id), cost))
        return items

    def metrics(self, tasks: list[Task]) -> list[Metric]:
        names = {"effect": "the claim's measured effect", "effect_low": "low end of its 95% interval",
                 "effect_high": "high end of its 95% interval"}
        declared = [Metric.info(name, "value", text) for name, text in names.items()]
        declared += [Metric.info("claim_seeds", "count", "seeds behind the effect"),
                     Metric.info("claim_examples", "count", "test examples behind the effect")]
        return declared + [Metric.info(name, "value", text) for name, text in EXTRAS.items()]

    def report(self, records: list[Record], metrics: dict[str, Metric]) -> str:
        """The verdicts (one row per task x claim), then what each claim states and measures (one line per claim
        and measure): a table that fits a page instead of one with every long text on each row."""
        rows = []
        for r in records:
            m = r.metrics
            effect = _interval(m.get("effect"), m.get("effect_low"), m.get("effect_high"))
            rows.append([r.params["claim"], r.task, effect, f"{m.get('claim_seeds', 0):.0f}",
                         f"{m.get('claim_examples', 0):.0f}", r.labels.get("verdict", ""), r.labels.get("note", "")])
        legend = list(dict.fromkeys((r.params["claim"], r.labels.get("statement", ""), r.labels.get("measure", ""))
                                    for r in records))
        served = sorted({r.labels.get("cases", "") for r in records} - {""})
        return "\n\n".join([
            markdown_table(rows, ["claim", "task", "effect [95% interval]", "seeds", "examples", "verdict", "note"]),
            "What each claim states, and the effect measured for it:\n\n" + "\n".join(
                f"- **{claim}** {statement}; effect: {measure}" for claim, statement, measure in legend),
            "Cases that serve the claims: " + "; ".join(served) + ".",
        ])

    def figures(self, records: list[Record], directory: Path) -> list[tuple[str, Path]]:
        return task_figures(records, directory, [
            ("C6 forward residuals through one segment", plots.residual_curves, "claims_residuals"),
            ("C5 exact accuracy against the inference budget (mean and 95% interval over seeds)",
             plots.accuracy_band_vs_budget, "claims_scaling"),
            ("C4b segments used against difficulty", plots.segments_vs_difficulty, "claims_difficulty"),
        ])

    def summary(self, records: list[Record], metrics: dict[str, Metric]) -> list[str]:
        lines = ["Claims (effect [95% interval], seeds, examples: verdict):"] if records else []
        for r in records:
            m = r.metrics
            lines.append(f"  {r.params['claim']:<4} {r.task}: {r.labels.get('measure', '')} = "
                         f"{_interval(m.get('effect'), m.get('effect_low'), m.get('effect_high'))} "
                         f"({m.get('claim_seeds', 0):.0f} seeds, {m.get('claim_examples', 0):.0f} examples): "
                         f"{r.labels.get('verdict', '')}")
        return lines


def _interval(value: float | None, low: float | None, high: float | None) -> str:
    def number(x: float | None) -> str:
        return "n/a" if x is None or not math.isfinite(x) else f"{x:+.3g}"

    if value is None or not math.isfinite(value):
        return "n/a"
    if low is None or not math.isfinite(low):
        return f"{number(value)} [no interval]"
    return f"{number(value)} [{number(low)}, {number(high)}]"


def _record(task: str, claim: Claim, measured: Measured, ctx: SuiteContext) -> Record:
    effect = measured.effect
    metrics = {"effect": effect.value, "effect_low": effect.low, "effect_high": effect.high,
               "claim_seeds": float(measured.seeds), "claim_examples": float(measured.examples), **measured.extras}
    arms = "/".join(arm for arm in (claim.subject, claim.control) if arm)
    seeds = ",".join(map(str, ctx.seeds))
    labels = {"verdict": measured.verdict, "statement": claim.statement, "measure": measured.measure,
              "cases": f"{claim.id}: {task} {arms} seeds {seeds}", **({"note": measured.note} if measured.note else {})}
    return Record("claims", task, claim.subject, None, metrics, {"claim": claim.id}, series=measured.series,
                  labels=labels)
