"""ModelConfig / OptimConfig: the paper configuration and one clear error per bad field."""

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
