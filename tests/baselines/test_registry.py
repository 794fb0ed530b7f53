"""The arm registry: names, config resolution, construction and the `--dry-run` description."""

import pytest
import torch
from baseline_helpers import build, reverse_batch
from model_helpers import tiny_config

from baselines.registry import ARMS, arm_config, build_arm
from hrm.errors import ConfigError
from hrm.interface import EvalOutput, ReasoningModel, SegmentOutput
from hrm.layers import count_parameters

SPEC_ARMS = ["hrm", "hrm-bptt", "transformer", "transformer-deep", "transformer-act", "trm"]


def test_every_arm_of_the_arms_table_is_registered():
    assert list(ARMS) == SPEC_ARMS


def test_unknown_arm_name_raises_config_error_listing_the_known_arms():
    with pytest.raises(ConfigError, match="unknown arm 'gpt'.*hrm, hrm-bptt, transformer.*trm"):
        arm_config("gpt", tiny_config())
    with pytest.raises(ConfigError, match="unknown arm 'gpt'"):
        build_arm("gpt", tiny_config())


def test_arm_defaults_apply_over_the_shared_config():
    config = arm_config("trm", tiny_config())
    assert (config.L_layers, config.H_cycles, config.L_cycles) == (2, 3, 6)
    assert (config.halting, config.puzzle_emb_len) == ("exact", 16)
    transformer = arm_config("transformer", tiny_config())
    assert (transformer.halt_max_steps, transformer.halting) == (1, "exact")
    assert arm_config("hrm-bptt", tiny_config()).gradient_mode == "bptt"
    assert arm_config("hrm", tiny_config()) == tiny_config()


def test_user_overrides_win_over_arm_defaults():
    config = arm_config("trm", tiny_config(), {"L_layers": 3, "L_cycles": 2})
    assert (config.L_layers, config.H_cycles, config.L_cycles) == (3, 3, 2)


def test_transformer_act_keeps_hrm_outer_loop_settings():
    shared = tiny_config(halt_max_steps=8)
    config = arm_config("transformer-act", shared)
    assert (config.halt_max_steps, config.halting) == (8, "q_learning")


def test_unknown_override_field_raises_config_error_naming_it():
    with pytest.raises(ConfigError, match="hiden_size"):
        arm_config("hrm", tiny_config(), {"hiden_size": 64})


def test_out_of_range_override_raises_config_error_naming_the_field():
    with pytest.raises(ConfigError, match="L_cycles"):
        arm_config("trm", tiny_config(), {"L_cycles": 0})


@pytest.mark.parametrize("name", SPEC_ARMS)
def test_every_arm_implements_the_model_interface(name):
    model = build(name)
    batch = reverse_batch(model.config, 4)
    assert isinstance(model, ReasoningModel)
    carry, output = model.train_segment(model.initial_carry(batch), batch)
    assert isinstance(output, SegmentOutput)
    assert output.loss.ndim == 0 and output.loss.requires_grad
    assert output.predictions.shape == batch["labels"].shape
    output.loss.backward()
    model.on_optimizer_step()
    result = model.evaluate(batch, halt_max_steps=2, mode="act", record_segments=True)
    assert isinstance(result, EvalOutput)
    assert result.predictions.shape == batch["labels"].shape
    assert result.segments.shape == result.q_halt_logits.shape == (4,)
    assert result.segment_predictions.shape[1:] == batch["labels"].shape


def _sizes(names, shared, overrides=None):
    """arm -> (parameters, block applications per segment), built on the meta device (shapes only)."""
    sizes = {}
    for name in names:
        with torch.device("meta"):
            model = build_arm(name, arm_config(name, shared, overrides))
        sizes[name] = (count_parameters(model), model.block_applications_per_segment())
    return sizes


def test_every_arm_reports_its_parameters_and_block_applications_per_segment():
    shared = tiny_config(H_layers=2, L_layers=3, H_cycles=2, L_cycles=4)
    sizes = _sizes(SPEC_ARMS, shared)
    blocks = {arm: size[1] for arm, size in sizes.items()}
    hrm_blocks = 2 * (4 * 3 + 2)  # N * (T * L_layers + H_layers)
    assert blocks == {
        "hrm": hrm_blocks,
        "hrm-bptt": hrm_blocks,
        "transformer": 2 + 3,
        "transformer-deep": hrm_blocks,
        "transformer-act": 2 + 3,
        "trm": 3 * (6 + 1) * 2,  # T * (n + 1) * L_layers at TRM's defaults
    }
    parameters = {arm: size[0] for arm, size in sizes.items()}
    assert parameters["transformer"] == parameters["hrm"] == parameters["hrm-bptt"] == parameters["transformer-act"]
    assert parameters["transformer-deep"] > parameters["hrm"] > parameters["trm"]
    assert all(isinstance(count, int) and count > 0 for count in parameters.values())


def test_an_arms_overrides_change_its_block_applications():
    assert _sizes(["trm"], tiny_config(), {"L_cycles": 2})["trm"][1] == 3 * (2 + 1) * 2
