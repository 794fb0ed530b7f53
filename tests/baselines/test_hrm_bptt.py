"""`hrm-bptt`: the same network and segment as `hrm`, differing only in how far gradients reach."""

import torch
from baseline_helpers import build, reverse_batch


def _one_segment(model, batch):
    """Loss, predictions, new state and parameter gradients of the first training segment, seed fixed."""
    torch.manual_seed(0)  # the halting exploration draws
    carry, output = model.train_segment(model.initial_carry(batch), batch)
    output.loss.backward()
    grads = {name: p.grad.to_dense() for name, p in model.named_parameters() if p.grad is not None}
    return output, carry, grads


def _pair():
    hrm = build("hrm", H_cycles=2, L_cycles=3)
    bptt = build("hrm-bptt", seed=1, H_cycles=2, L_cycles=3)
    bptt.load_state_dict(hrm.state_dict())
    return hrm, bptt


def test_hrm_bptt_forward_outputs_equal_hrm_from_identical_weights_and_inputs():
    hrm, bptt = _pair()
    batch = reverse_batch(hrm.config, 4)
    out_a, carry_a, _ = _one_segment(hrm, batch)
    out_b, carry_b, _ = _one_segment(bptt, batch)
    assert torch.equal(out_a.loss, out_b.loss)
    assert torch.equal(out_a.predictions, out_b.predictions)
    assert torch.equal(out_a.halted, out_b.halted)
    for a, b in zip(carry_a.state, carry_b.state, strict=True):
        assert torch.equal(a, b)
    for key in out_a.metrics:
        assert torch.equal(out_a.metrics[key], out_b.metrics[key]), key
    eval_a, eval_b = hrm.evaluate(batch, halt_max_steps=3), bptt.evaluate(batch, halt_max_steps=3)
    assert torch.equal(eval_a.q_halt_logits, eval_b.q_halt_logits)


def test_hrm_bptt_gradients_differ_from_hrm():
    hrm, bptt = _pair()
    batch = reverse_batch(hrm.config, 4)
    _, _, grads_a = _one_segment(hrm, batch)
    _, _, grads_b = _one_segment(bptt, batch)
    assert grads_a.keys() == grads_b.keys()
    differing = [name for name in grads_a if not torch.allclose(grads_a[name], grads_b[name])]
    assert "core.L_level.blocks.0.attn.qkv.weight" in differing
    assert "core.embedding.tokens" in differing
