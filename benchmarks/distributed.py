"""Data-parallel training under `torchrun`: one process per device, the global batch split across them.

    torchrun --nproc_per_node 2 -m benchmarks.run --suite accuracy --scale cpu ...

`torchrun` sets WORLD_SIZE, RANK and LOCAL_RANK; `start` joins the process group (gloo on CPU, NCCL on
CUDA) when WORLD_SIZE > 1, and everything else here is a no-op in a single process. Every rank draws the
same global batch (same sampler, same seed) and trains its own slice (`shard`) with its own ACT carry; the
model's random draws (ACT exploration) are made for the whole global batch on every rank and sliced
(`hrm.act.ACTModel.shard`), so the ranks' generators stay in step and the run matches one process on the
same global batch. After each backward, `all_reduce_gradients` averages the dense gradients and gathers
the puzzle embedding's sparse rows from every rank (the reference all-gathers them before its sign-SGD), so
every rank takes the same optimiser step and holds the same weights. Test evaluations are split by batch:
each rank evaluates its run of the test batches and `gather_rows` joins the outputs, so every rank holds the
whole split's evaluation, each batch computed as one process computes it. Rank 0 writes records, checkpoints and
MLflow; every rank reads a checkpoint to resume. A rank that dies makes torchrun stop the others; a
collective that waits longer than `TIMEOUT` fails with an error instead of hanging.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from benchmarks.errors import BenchmarkError
from benchmarks.training_state import MetricWindow

TIMEOUT = datetime.timedelta(minutes=10)  # longest wait in one collective (a whole evaluation fits in it)


@dataclass(frozen=True)
class Ranks:
    """This process's place in the job: rank `rank` of `world` processes."""

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        """The rank that writes files and talks to MLflow."""
        return self.rank == 0


def requested() -> int:
    """The number of processes torchrun started (1 without torchrun)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        raise BenchmarkError(f"WORLD_SIZE must be an integer, got {os.environ['WORLD_SIZE']!r}") from None


def start(device: torch.device) -> tuple[Ranks, torch.device]:
    """Join the process group when torchrun started several processes; returns (ranks, this rank's device:
    cuda:LOCAL_RANK on CUDA)."""
    if requested() <= 1:
        return Ranks(), device
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
        dist.init_process_group(backend, timeout=TIMEOUT)
    return current(), device


def current() -> Ranks:
    """The ranks of the joined process group, or a single process."""
    if dist.is_available() and dist.is_initialized():
        return Ranks(dist.get_rank(), dist.get_world_size())
    return Ranks()


def stop() -> None:
    """Leave the process group (at the end of a torchrun job)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def shard(batch: dict[str, torch.Tensor], ranks: Ranks) -> dict[str, torch.Tensor]:
    """This rank's slice of a global batch (rows rank * b/world to (rank + 1) * b/world)."""
    if ranks.world == 1:
        return batch
    size = next(iter(batch.values())).shape[0]
    if size % ranks.world:
        raise BenchmarkError(f"train.batch_size {size} does not split over {ranks.world} processes; make it a "
                             f"multiple of {ranks.world}")
    local = size // ranks.world
    return {key: value[ranks.rank * local:(ranks.rank + 1) * local] for key, value in batch.items()}


@torch.no_grad()
def all_reduce_gradients(parameters: list[torch.Tensor], ranks: Ranks) -> None:
    """Average every dense gradient over the ranks (one flat all-reduce) and replace every sparse gradient
    by the rows of all ranks (each scaled by 1/world), so that each rank's optimisers see the gradient of
    the global batch's mean loss."""
    if ranks.world == 1:
        return
    dense = [p.grad for p in parameters if p.grad is not None and not p.grad.is_sparse]
    if dense:
        flat = torch.cat([grad.reshape(-1) for grad in dense])
        dist.all_reduce(flat)
        flat.div_(ranks.world)
        offset = 0
        for grad in dense:
            grad.copy_(flat[offset:offset + grad.numel()].view_as(grad))
            offset += grad.numel()
    for p in parameters:
        if p.grad is not None and p.grad.is_sparse:
            grad = p.grad.coalesce()
            indices = _gather(grad.indices(), 1, ranks)  # [1, rows]
            values = _gather(grad.values(), 0, ranks)  # [rows, dim]
            p.grad = torch.sparse_coo_tensor(torch.cat(indices, dim=1), torch.cat(values) / ranks.world,
                                             grad.shape).coalesce()


def gather_rows(tensor: torch.Tensor, ranks: Ranks) -> torch.Tensor:
    """Every rank's `tensor` joined along its first axis in rank order (their row counts may differ, and may
    be 0); `tensor` itself in one process."""
    if ranks.world == 1:
        return tensor
    return torch.cat(_gather(tensor, 0, ranks))


def summed(tensor: torch.Tensor, ranks: Ranks) -> torch.Tensor:
    """`tensor` summed over the ranks; `tensor` itself in one process."""
    if ranks.world == 1:
        return tensor
    total = tensor.clone()
    dist.all_reduce(total)
    return total


def _gather(tensor: torch.Tensor, axis: int, ranks: Ranks) -> list[torch.Tensor]:
    """`tensor` from every rank; their lengths along `axis` may differ (each rank touches its own rows)."""
    length = torch.tensor([tensor.shape[axis]], dtype=torch.int64, device=tensor.device)
    lengths = [torch.zeros_like(length) for _ in range(ranks.world)]
    dist.all_gather(lengths, length)
    longest = max(int(item) for item in lengths)
    shape = list(tensor.shape)
    shape[axis] = longest
    padded = tensor.new_zeros(shape)
    padded.narrow(axis, 0, tensor.shape[axis]).copy_(tensor)
    gathered = [torch.empty_like(padded) for _ in range(ranks.world)]
    dist.all_gather(gathered, padded)
    return [part.narrow(axis, 0, int(size)) for part, size in zip(gathered, lengths, strict=True)]


def reduced_window(window: MetricWindow, ranks: Ranks) -> MetricWindow:
    """A log window's training metrics summed over the ranks, so its means are the global batch's (each rank
    adds its loss divided by the number of ranks)."""
    if ranks.world == 1:
        return window
    names = sorted(window.sums)
    values = torch.tensor([float(window.sums[name]) for name in names], dtype=torch.float64)
    if dist.get_backend() == "nccl":
        values = values.cuda()
    dist.all_reduce(values)
    return MetricWindow(dict(zip(names, values.cpu().tolist(), strict=True)), window.steps)


def barrier(ranks: Ranks) -> None:
    if ranks.world > 1:
        dist.barrier()
