"""A toy arm for the extension test: HRM with a single high-level cycle. One file, registered by one line."""

from __future__ import annotations

from baselines.registry import ArmSpec
from hrm.model import build_hrm

ONE_CYCLE = ArmSpec(
    build_hrm,
    "HRM with one high-level cycle per segment (N fixed at 1)",
    identity={"H_cycles": 1, "gradient_mode": "one_step", "halting": "q_learning"},
    defaults={"L_cycles": 3},
    scales={"smoke": {"model.hidden_size": 32}},
)
