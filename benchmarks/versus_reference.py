"""`python -m benchmarks.versus_reference --reference PATH`: one training step, ours against the reference's own
model code (a clone of sapientinc/HRM at PATH), timed side by side in one process, alternating.

The configuration is the speed issue's: d=128, 4 heads, 2+2 layers, N=T=2, Mmax 16 with the Q-target pass,
exploration 0.1, a 128-wide puzzle embedding for one identifier, 9x9 Sudoku tokens (seq 81, vocab 11), batch
32, fp32 on CPU. Both take AdamW (fused) for the weights and sign-SGD for the puzzle embedding (the
reference's `CastedSparseEmbeddingSignSGD_Distributed` with world size 1), both run the reference's stablemax
loss, and the batch is the same. The reference imports flash-attn, which has no CPU build, so a stand-in
module with the same function runs `scaled_dot_product_attention` in its place (layout transposes included,
as flash-attn's callers pay for them too). Nothing of the reference is copied here: it is imported from PATH.

Three sides alternate: the reference, ours at its defaults (the reference's arithmetic, bit for bit) and ours
with `model.compile` (inductor-fused, rounding differs in the last bits). Prints each side's median and
interquartile range over `--rounds` alternating rounds after warm-up, its warm-up time (for the compiled side
that includes compiling, from inductor's cache when it holds these graphs), and the ratios (the reference's
median over ours); `--out FILE` writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import types
from pathlib import Path

import torch
import torch.nn.functional as F

BATCH, SEQ, VOCAB = 32, 81, 11
ARCH = {"hidden_size": 128, "num_heads": 4, "H_layers": 2, "L_layers": 2, "H_cycles": 2, "L_cycles": 2,
        "halt_max_steps": 16, "halt_exploration_prob": 0.1, "expansion": 4, "puzzle_emb_ndim": 128,
        "pos_encodings": "rope"}
OPTIM = {"lr": 1e-4, "betas": (0.9, 0.95), "weight_decay": 0.1, "puzzle_emb_lr": 1e-2, "puzzle_emb_weight_decay": 0.1}


def _flash_attention_stand_in(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False,
                              **_: object) -> torch.Tensor:
    """flash-attn's `flash_attn_func` on [batch, seq, heads, head_dim] tensors, computed by SDPA."""
    out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=causal)
    return out.transpose(1, 2)


def _batch(seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {"inputs": torch.randint(1, VOCAB, (BATCH, SEQ), generator=generator),
            "labels": torch.randint(2, VOCAB, (BATCH, SEQ), generator=generator),
            "puzzle_identifiers": torch.zeros(BATCH, dtype=torch.int64)}


def reference_step(path: Path):
    """A function running one reference training step (carry kept between calls)."""
    if not (path / "models/hrm/hrm_act_v1.py").is_file():
        raise SystemExit(f"error: {path} is not a clone of sapientinc/HRM (no models/hrm/hrm_act_v1.py)")
    stand_in = types.ModuleType("flash_attn_interface")
    stand_in.flash_attn_func = _flash_attention_stand_in
    sys.modules.setdefault("flash_attn_interface", stand_in)
    sys.path.insert(0, str(path))
    from models.hrm.hrm_act_v1 import HierarchicalReasoningModel_ACTV1
    from models.losses import ACTLossHead
    from models.sparse_embedding import CastedSparseEmbeddingSignSGD_Distributed

    torch.manual_seed(0)
    inner = HierarchicalReasoningModel_ACTV1({**ARCH, "batch_size": BATCH, "seq_len": SEQ, "vocab_size": VOCAB,
                                              "num_puzzle_identifiers": 1, "forward_dtype": "float32"})
    model = ACTLossHead(inner, "stablemax_cross_entropy").train()
    sparse = CastedSparseEmbeddingSignSGD_Distributed(inner.puzzle_emb.buffers(), world_size=1,
                                                      lr=OPTIM["puzzle_emb_lr"],
                                                      weight_decay=OPTIM["puzzle_emb_weight_decay"])
    dense = torch.optim.AdamW(model.parameters(), lr=OPTIM["lr"], betas=OPTIM["betas"],
                              weight_decay=OPTIM["weight_decay"], fused=True)
    batch = _batch()
    state = {"carry": model.initial_carry(batch)}

    def step() -> None:
        state["carry"], loss, _, _, _ = model(carry=state["carry"], batch=batch, return_keys=[])
        (loss / BATCH).backward()
        for optimizer in (sparse, dense):
            optimizer.step()
            optimizer.zero_grad()

    return step


def our_step(compile: bool = False):
    """A function running one of our training steps (`hrm.training.training_step`) at the same settings;
    `compile`: with `model.compile`."""
    from hrm.config import ModelConfig, OptimConfig
    from hrm.model import build_hrm
    from hrm.optim import build_optimizers
    from hrm.training import training_step

    torch.manual_seed(0)
    config = ModelConfig(vocab_size=VOCAB, seq_len=SEQ, num_puzzle_identifiers=1,
                         puzzle_emb_dim=ARCH["puzzle_emb_ndim"], hidden_size=ARCH["hidden_size"],
                         num_heads=ARCH["num_heads"], H_layers=ARCH["H_layers"], L_layers=ARCH["L_layers"],
                         H_cycles=ARCH["H_cycles"], L_cycles=ARCH["L_cycles"], halt_max_steps=ARCH["halt_max_steps"],
                         halt_exploration_prob=ARCH["halt_exploration_prob"], expansion=float(ARCH["expansion"]),
                         compile=compile)
    model = build_hrm(config)
    optimizers = build_optimizers(model, OptimConfig(
        optimizer="adamw", lr=OPTIM["lr"], beta1=OPTIM["betas"][0], beta2=OPTIM["betas"][1],
        weight_decay=OPTIM["weight_decay"], puzzle_emb_lr=OPTIM["puzzle_emb_lr"],
        puzzle_emb_weight_decay=OPTIM["puzzle_emb_weight_decay"]))
    batch = _batch()
    state = {"carry": model.initial_carry(batch)}

    def step() -> None:
        state["carry"], _ = training_step(model, optimizers, state["carry"], batch)

    return step


def _seconds(step) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def _summary(times: list[float]) -> dict[str, float]:
    quartiles = statistics.quantiles(times, n=4)
    return {"median_s": statistics.median(times), "iqr_s": quartiles[2] - quartiles[0], "rounds": len(times)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.versus_reference", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", type=Path, required=True, help="a clone of sapientinc/HRM")
    parser.add_argument("--rounds", type=int, default=20, help="timed rounds of each, alternating (default: 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps of each first (default: 3)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default: 2)")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    if args.rounds < 2 or args.warmup < 0 or args.threads < 1:
        parser.error("--rounds must be >= 2, --warmup >= 0 and --threads >= 1")
    torch.set_num_threads(args.threads)
    sides = {"reference": reference_step(args.reference), "ours": our_step(),
             "ours_compiled": our_step(compile=True)}
    warmup = {name: sum(_seconds(step) for _ in range(args.warmup)) for name, step in sides.items()}
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(args.rounds):  # alternating, so a change in the machine's load reaches every side alike
        for name, step in sides.items():
            times[name].append(_seconds(step))
    result = {name: {**_summary(values), "warmup_s": warmup[name]} for name, values in times.items()}
    result["speedup"] = result["reference"]["median_s"] / result["ours"]["median_s"]
    result["speedup_compiled"] = result["reference"]["median_s"] / result["ours_compiled"]["median_s"]
    result["threads"] = args.threads
    result["torch"] = torch.__version__
    for name in sides:
        print(f"{name:>13}: median {result[name]['median_s'] * 1e3:.0f} ms (IQR {result[name]['iqr_s'] * 1e3:.0f} ms, "
              f"{args.rounds} rounds; {args.warmup} warm-up steps took {warmup[name]:.1f} s)")
    print(f"ours is {result['speedup']:.2f}x the reference's speed, ours compiled {result['speedup_compiled']:.2f}x")
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
