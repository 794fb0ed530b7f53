"""ModelConfig / OptimConfig: the paper configuration and one clear error per bad field."""

import dataclasses
import math

import pytest

from hrm.config import ModelConfig, OptimConfig
from hrm.errors import ConfigError
from hrm.layers import count_parameters
from hrm.model import build_hrm


def test_paper_config_has_27_275_266_trainable_parameters():
    model = build_hrm(ModelConfig(hidden_size=512, num_heads=8, H_layers=4, L_layers=4, vocab_size=11,
                                  num_puzzle_identifiers=1, puzzle_emb_dim=512))
    assert count_parameters(model) == 27_275_266


def test_puzzle_table_and_initial_states_are_not_counted():
    model = build_hrm(ModelConfig(hidden_size=64, num_heads=4, H_layers=1, L_layers=1, num_puzzle_identifiers=1000))
    with_table = count_parameters(model)
    without = count_parameters(build_hrm(ModelConfig(hidden_size=64, num_heads=4, H_layers=1, L_layers=1,
                                                     puzzle_emb_dim=0)))
    assert with_table == without
    assert {"core.z_H0", "core.z_L0"} <= set(dict(model.named_buffers()))


def test_hidden_size_not_divisible_by_heads_names_the_field():
    with pytest.raises(ConfigError, match="hidden_size"):
        ModelConfig(hidden_size=100, num_heads=8)


@pytest.mark.parametrize("field", ["H_cycles", "L_cycles", "H_layers", "L_layers", "halt_max_steps", "ffn_multiple"])
def test_count_below_one_names_the_field(field):
    with pytest.raises(ConfigError, match=field):
        ModelConfig(**{field: 0})


@pytest.mark.parametrize("field", ["gradient_mode", "pos_encodings", "loss_type", "halting"])
def test_unknown_option_names_the_field(field):
    with pytest.raises(ConfigError, match=field):
        ModelConfig(**{field: "nonsense"})


def test_puzzle_prefix_too_short_for_the_embedding_names_the_field():
    with pytest.raises(ConfigError, match="puzzle_emb_len"):
        ModelConfig(hidden_size=64, num_heads=4, puzzle_emb_dim=512, puzzle_emb_len=2)


def test_replace_validates():
    with pytest.raises(ConfigError, match="halt_max_steps"):
        ModelConfig().replace(halt_max_steps=0)


def test_unknown_optimizer_names_the_field():
    with pytest.raises(ConfigError, match="optimizer"):
        OptimConfig(optimizer="sgd")


def test_negative_warmup_names_the_field():
    with pytest.raises(ConfigError, match="warmup_steps"):
        OptimConfig(warmup_steps=-1)


def _float_fields(cls):
    return sorted(f.name for f in dataclasses.fields(cls) if f.type == "float")


# Every float setting with one value out of its range, and (for the ranges closed there) a boundary that is in it.
_OUT_OF_RANGE = {
    (ModelConfig, "expansion"): 0.0,
    (ModelConfig, "halt_exploration_prob"): 1.5,
    (ModelConfig, "rope_theta"): 0.0,
    (ModelConfig, "rms_norm_eps"): 0.0,
    (ModelConfig, "ema_decay"): 1.0,
    (OptimConfig, "lr"): -1e-4,
    (OptimConfig, "beta1"): 1.0,
    (OptimConfig, "beta2"): -0.1,
    (OptimConfig, "weight_decay"): -1.0,
    (OptimConfig, "puzzle_emb_lr"): -1e-2,
    (OptimConfig, "puzzle_emb_weight_decay"): -0.1,
}
_BOUNDARIES = {
    (ModelConfig, "halt_exploration_prob"): (0.0, 1.0),
    (ModelConfig, "ema_decay"): (0.0,),
    (OptimConfig, "lr"): (0.0,),
    (OptimConfig, "beta1"): (0.0,),
    (OptimConfig, "weight_decay"): (0.0,),
}
_FLOAT_SETTINGS = sorted(_OUT_OF_RANGE, key=lambda key: (key[0].__name__, key[1]))


def test_every_float_field_has_a_range_check():
    assert {name for cls, name in _OUT_OF_RANGE if cls is ModelConfig} == set(_float_fields(ModelConfig))
    assert {name for cls, name in _OUT_OF_RANGE if cls is OptimConfig} == set(_float_fields(OptimConfig))


@pytest.mark.parametrize(("cls", "field"), _FLOAT_SETTINGS)
def test_nan_float_setting_names_the_field(cls, field):
    with pytest.raises(ConfigError, match=rf"{cls.__name__}\.{field} .*got nan"):
        cls(**{field: math.nan})


@pytest.mark.parametrize(("cls", "field"), _FLOAT_SETTINGS)
@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_infinite_float_setting_names_the_field(cls, field, value):
    with pytest.raises(ConfigError, match=rf"{cls.__name__}\.{field} must be a finite number"):
        cls(**{field: value})


@pytest.mark.parametrize(("cls", "field"), _FLOAT_SETTINGS)
def test_out_of_range_float_setting_names_the_field(cls, field):
    with pytest.raises(ConfigError, match=rf"{cls.__name__}\.{field}"):
        cls(**{field: _OUT_OF_RANGE[cls, field]})


@pytest.mark.parametrize(("cls", "field"), _FLOAT_SETTINGS)
@pytest.mark.parametrize("value", ["0.1", True, None])
def test_non_number_in_a_float_setting_names_the_field(cls, field, value):
    with pytest.raises(ConfigError, match=rf"{cls.__name__}\.{field} must be a finite number"):
        cls(**{field: value})


@pytest.mark.parametrize(("cls", "field"), sorted(_BOUNDARIES, key=lambda key: (key[0].__name__, key[1])))
def test_range_boundaries_are_accepted(cls, field):
    for value in _BOUNDARIES[cls, field]:
        assert getattr(cls(**{field: value}), field) == value


def test_integer_value_in_a_float_setting_is_accepted():
    assert ModelConfig(expansion=4).expansion == 4 and OptimConfig(lr=0, weight_decay=1).weight_decay == 1


@pytest.mark.parametrize("field", ["hidden_size", "puzzle_emb_dim"])
def test_bool_in_an_integer_setting_names_the_field(field):
    with pytest.raises(ConfigError, match=field):
        ModelConfig(**{field: True})


def test_bool_warmup_names_the_field():
    with pytest.raises(ConfigError, match="warmup_steps"):
        OptimConfig(warmup_steps=True)
