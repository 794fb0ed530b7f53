"""The baseline arms of the suite, each a `hrm.interface.ReasoningModel` built from HRM's own pieces.

Arms (BENCHMARKS.md, arms table): `hrm`, `hrm-bptt` (HRM with `gradient_mode="bptt"`), `transformer`,
`transformer-deep`, `transformer-act` (`baselines.transformer`) and `trm` (`baselines.trm`). Every arm
that runs segments does so through the shared outer loop `hrm.act.ACTModel` around a `RecurrentCore` of
its own. The runner only uses the registry:

    config = arm_config("trm", shared_config, {"L_cycles": 4})   # arm defaults, identity, then overrides
    model = build_arm("trm", config)
"""

from baselines.registry import ARMS, ArmSpec, arm_config, build_arm, get_arm

__all__ = ["ARMS", "ArmSpec", "arm_config", "build_arm", "get_arm"]
