"""Our HRM against outputs of the reference implementation (tests/fixtures/reference-hrm/README.md: what each holds).

The models are built through `model_config_from_reference` and `load_reference_state_dict`, in float32 on the CPU
with one thread. Bit identity needs float32 matrix products that round as on the machine that recorded the
outputs, so there are two sets holding the same inputs (config, weights, batch, training settings) and the
reference's outputs from two machine classes: `reference-hrm/` (the original recording) and
`reference-hrm-x86-avx2/` (the reference re-run on an AVX2 x86 CPU with MKL; its README says how it was made).
A set matches this machine when its own lm_head applied to its own z_H gives its logits. Against a matching set,
eval outputs and the AdamW run must be bit-identical, and the Adam-atan2 run keep the halting and come within
1e-6; those tests skip only when no set matches.

The other tests run everywhere, against the original set, and check what any machine still reaches: the same
halting decisions, losses within 1e-6, eval outputs and Adam-atan2 weights close. AdamW's weights on a machine
that rounds differently drift further, up to ~1e-5 after 10 steps: its epsilon (1e-8) makes the first update of
a weight whose gradient is ~1e-8 depend on that gradient's last bits.
"""

from functools import cache
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from hrm.checkpoint import load_reference_state_dict, map_reference_state_dict, model_config_from_reference
from hrm.config import OptimConfig
from hrm.model import build_hrm
from hrm.optim import build_optimizers
from hrm.training import training_step

FIXTURE_ROOT = Path(__file__).resolve().parents[1] / "fixtures"
ORIGINAL_SET = FIXTURE_ROOT / "reference-hrm"
FIXTURE_SETS = (ORIGINAL_SET, FIXTURE_ROOT / "reference-hrm-x86-avx2")
EVAL_FIXTURES = ("eval_rope", "eval_learned_prefix2")
TRAIN_FIXTURES = ("train_adamw", "train_adam_atan2")
EVAL_OUTPUTS = ("logits", "q_halt_logits", "q_continue_logits", "z_H", "z_L")


def _load(name: str, fixture_set: Path = ORIGINAL_SET) -> dict:
    return torch.load(fixture_set / f"{name}.pt", map_location="cpu", weights_only=True)


def _reference_model(fixture: dict):
    model = build_hrm(model_config_from_reference(fixture["config"]))
    load_reference_state_dict(model, fixture["state_dict"])
    return model


@cache
def _rounds_like_the_machine_that_recorded(fixture_set: Path) -> bool:
    """Whether this machine's float32 matrix product reproduces the set's own: lm_head(z_H) == logits."""
    for name in EVAL_FIXTURES:
        fixture = _load(name, fixture_set)
        weight = fixture["state_dict"]["inner.lm_head.weight"]
        prefix = fixture["segments"][0]["z_H"].shape[1] - fixture["segments"][0]["logits"].shape[1]
        for segment in fixture["segments"]:
            if not torch.equal(F.linear(segment["z_H"], weight)[:, prefix:], segment["logits"]):
                return False
    return True


@pytest.fixture
def one_thread():
    """One CPU thread and an untouched global generator for the test, both restored afterwards."""
    threads, rng = torch.get_num_threads(), torch.get_rng_state()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    torch.set_rng_state(rng)


@pytest.fixture
def this_machines_set(one_thread) -> Path:
    """The fixture set recorded with this machine's float32 rounding; skips when there is none."""
    for fixture_set in FIXTURE_SETS:
        if _rounds_like_the_machine_that_recorded(fixture_set):
            return fixture_set
    pytest.skip("no fixture set was recorded with this machine's float32 matmul rounding (in none of "
                f"{', '.join(s.name for s in FIXTURE_SETS)} does lm_head applied to z_H give the logits): "
                "no bit identity possible here; tests/fixtures/reference-hrm-x86-avx2/README.md says how to "
                "record the reference's outputs on this machine class")


def _eval_segments(name: str, fixture_set: Path = ORIGINAL_SET) -> tuple[list[dict], list[dict]]:
    """(ours, the reference's) outputs of every recorded segment, in eval mode from the initial carry."""
    fixture = _load(name, fixture_set)
    model = _reference_model(fixture).eval()
    batch = fixture["batch"]
    state = model.core.initial_state(batch["inputs"].shape[0], torch.device("cpu"))
    ours = []
    with torch.no_grad():
        for _ in fixture["segments"]:
            state, logits, q_logits = model.core(state, batch)
            ours.append(dict(zip(EVAL_OUTPUTS, (logits, q_logits[:, 0], q_logits[:, 1], *state), strict=True)))
    return ours, fixture["segments"]


@cache
def _train(name: str, fixture_set: Path) -> tuple[list, dict, dict]:
    """The README's 10-step protocol: (per step (loss, halted, steps), our final weights, the reference's).

    Cached, as several tests read the same run; every caller holds `one_thread`. Callers must not modify the result.
    """
    fixture = _load(name, fixture_set)
    model = _reference_model(fixture).train()
    beta1, beta2 = fixture["betas"]
    optim = OptimConfig(
        optimizer=fixture["optimizer"], lr=fixture["lr"], beta1=beta1, beta2=beta2,
        weight_decay=fixture["weight_decay"], warmup_steps=fixture["warmup_steps"],
        puzzle_emb_lr=fixture["puzzle_emb_lr"], puzzle_emb_weight_decay=fixture["puzzle_emb_weight_decay"],
    )
    optimizers = build_optimizers(model, optim)
    batch = fixture["batch"]
    carry = model.initial_carry(batch)
    torch.manual_seed(fixture["explore_seed"])
    steps = []
    for _ in fixture["steps"]:
        carry, output = training_step(model, optimizers, carry, batch)
        steps.append((output.loss.item(), carry.halted.clone(), carry.steps.clone()))
    return steps, model.state_dict(), map_reference_state_dict(fixture["final_state_dict"])


def _assert_same_halting_and_losses_within_1e_6(name: str, fixture_set: Path) -> None:
    steps, _, _ = _train(name, fixture_set)
    expected_steps = _load(name, fixture_set)["steps"]
    for index, ((loss, halted, segments), expected) in enumerate(zip(steps, expected_steps, strict=True)):
        assert torch.equal(halted, expected["halted"]), f"step {index + 1}: halted"
        assert torch.equal(segments, expected["steps"]), f"step {index + 1}: steps"
        assert abs(loss - expected["loss"]) <= 1e-6, f"step {index + 1}: loss {loss} vs {expected['loss']}"


# Against the set recorded with this machine's rounding: bit identity.


def _assert_every_segment(name: str, fixture_set: Path, check) -> None:
    """`check(ours, reference, where)` for every eval output of every recorded segment."""
    ours, reference = _eval_segments(name, fixture_set)
    for index, (got, expected) in enumerate(zip(ours, reference, strict=True)):
        for key in EVAL_OUTPUTS:
            check(got[key], expected[key], f"{fixture_set.name}, segment {index}: {key}")


def _assert_equal(got: torch.Tensor, expected: torch.Tensor, where: str) -> None:
    assert torch.equal(got, expected), where


def _assert_within_1e_3(got: torch.Tensor, expected: torch.Tensor, where: str) -> None:
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-3, msg=where)


@pytest.mark.parametrize("name", EVAL_FIXTURES)
def test_eval_segments_are_bit_identical_to_the_reference(name, this_machines_set):
    _assert_every_segment(name, this_machines_set, _assert_equal)


@pytest.mark.parametrize("name", TRAIN_FIXTURES)
def test_training_makes_the_halting_decisions_and_losses_of_the_reference_on_this_machine(name, this_machines_set):
    _assert_same_halting_and_losses_within_1e_6(name, this_machines_set)


def test_adamw_training_ends_bit_identical_to_the_reference_weights(this_machines_set):
    _, ours, reference = _train("train_adamw", this_machines_set)
    for key, expected in reference.items():
        assert torch.equal(ours[key], expected), f"{this_machines_set.name}: {key}"


def test_adam_atan2_training_ends_within_1e_6_of_the_reference_weights_on_this_machine(this_machines_set):
    _, ours, reference = _train("train_adam_atan2", this_machines_set)
    for key, expected in reference.items():
        torch.testing.assert_close(ours[key], expected, rtol=0, atol=1e-6, msg=f"{this_machines_set.name}: {key}")


# Against the original set, on any machine: what differently rounding matrix products still reach.


@pytest.mark.parametrize("name", EVAL_FIXTURES)
def test_eval_segments_match_the_reference_to_rounding(name, one_thread):
    _assert_every_segment(name, ORIGINAL_SET, _assert_within_1e_3)


@pytest.mark.parametrize("name", TRAIN_FIXTURES)
def test_training_makes_the_reference_halting_decisions_and_losses(name, one_thread):
    _assert_same_halting_and_losses_within_1e_6(name, ORIGINAL_SET)


def test_adam_atan2_training_ends_within_1e_6_of_the_reference_weights(one_thread):
    _, ours, reference = _train("train_adam_atan2", ORIGINAL_SET)
    for key, expected in reference.items():
        torch.testing.assert_close(ours[key], expected, rtol=0, atol=1e-6, msg=key)


def test_adamw_training_ends_close_to_the_reference_weights(one_thread):
    _, ours, reference = _train("train_adamw", ORIGINAL_SET)
    for key, expected in reference.items():
        torch.testing.assert_close(ours[key], expected, rtol=0, atol=1e-4, msg=key)
