"""Data-parallel training over several processes (``torchrun``): ranks, the process group, DDP wrapping,
decisions every rank agrees on, and a check that the replicas stayed identical.

How a run with N ranks relates to a single-process run (docs/training.md, "Several GPUs"):

* ``--batch`` stays the *global* batch. Batch ``step`` is the same set of samples as in a single
  run; rank r builds samples ``r·B/N … (r+1)·B/N − 1`` of it (each sample's randomness comes from
  ``(seed, step, index)`` alone, see :mod:`.sampling`), so the ranks' batches together are exactly
  the single run's batch, and a run resumed with another number of ranks continues the same stream.
* DDP averages the gradients, so every rank takes the optimiser step of the global batch mean; the
  weights start identical (same seed, and DDP broadcasts rank 0's at wrapping time) and stay so.
* Spectral norm (DeepFill's discriminator): its power-iteration vector ``weight_u`` is a buffer
  updated from the weights alone, so it evolves identically on every rank; DDP's
  ``broadcast_buffers`` also copies rank 0's buffers before every synchronised forward, which
  removes any drift from non-deterministic kernels.
* BatchNorm: the generator of LBAM's ``batchnorm`` variant is converted to SyncBatchNorm on CUDA
  (batch statistics over the global batch). LBAM's discriminator keeps per-rank BatchNorm, because
  its gradient penalty differentiates through it twice, which SyncBatchNorm does not support; its
  running statistics follow rank 0 through ``broadcast_buffers``. On the CPU (gloo, tests only)
  SyncBatchNorm is unavailable and every BatchNorm normalises over its rank's samples.
* Rank 0 alone writes the log, previews and checkpoints; rank 0's clock and signals decide when to
  log, preview, checkpoint and stop, and every rank follows (:meth:`Ranks.agree`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

RANK_SEED_STREAM = 2  # torch's generator on rank r of a resumed/started run: SeedSequence([seed, 2, step, r])


@dataclass(frozen=True)
class Ranks:
    """This process's place in the run: rank ``rank`` of ``world`` (1 = an ordinary single process)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    local_world: int = 1

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @property
    def leader(self) -> bool:
        return self.rank == 0

    def share(self, batch: int) -> range:
        """The sample indices of a global batch that this rank builds and trains on."""
        if batch % self.world:
            raise ValueError(f"--batch {batch} does not split evenly over {self.world} ranks; "
                             f"use a multiple of {self.world}")
        per_rank = batch // self.world
        return range(self.rank * per_rank, (self.rank + 1) * per_rank)

    def agree(self, values: list[int], device: torch.device) -> list[int]:
        """Rank 0's ``values`` on every rank (one small broadcast; a no-op in a single process)."""
        if not self.distributed:
            return values
        tensor = torch.tensor(values, dtype=torch.int64, device=device)
        dist.broadcast(tensor, src=0)
        return [int(value) for value in tensor.tolist()]

    def mean(self, values: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The mean over ranks of each value (same names on every rank)."""
        if not self.distributed:
            return values
        names = sorted(values)
        stacked = torch.stack([values[name].detach().float().reshape(()) for name in names])
        dist.all_reduce(stacked, op=dist.ReduceOp.SUM)
        return {name: stacked[index] / self.world for index, name in enumerate(names)}

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()


def ranks_from_environment() -> Ranks:
    """What ``torchrun`` (or any launcher setting RANK / WORLD_SIZE) says; a single process otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Ranks()
    rank = int(os.environ["RANK"])
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
    return Ranks(rank, world, int(os.environ.get("LOCAL_RANK", str(rank % local_world))), local_world)


def rank_device(ranks: Ranks, device: str | None) -> str | None:
    """The device of this rank: ``cuda:LOCAL_RANK`` when CUDA is asked for (or the default)."""
    if not ranks.distributed:
        return device
    wants_cuda = device in (None, "cuda") and torch.cuda.is_available()
    if wants_cuda:
        torch.cuda.set_device(ranks.local_rank)
        return f"cuda:{ranks.local_rank}"
    return device


@contextlib.contextmanager
def process_group(ranks: Ranks, device: torch.device) -> Iterator[None]:
    """Join the run's process group (NCCL on CUDA, gloo on the CPU) for the duration of training."""
    if not ranks.distributed or dist.is_initialized():
        yield
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    # MASTER_ADDR / MASTER_PORT come from torchrun (or the launcher) through the environment.
    dist.init_process_group(backend, rank=ranks.rank, world_size=ranks.world,
                            device_id=device if device.type == "cuda" else None)
    try:
        yield
    finally:
        dist.destroy_process_group()


def seed_rank(ranks: Ranks, seed: int, step: int) -> None:
    """Give each rank its own torch random stream (e.g. the gradient penalty's interpolation weights),
    determined by (seed, step, rank) so that a resumed run is reproducible with the same ranks."""
    if ranks.distributed:
        state = np.random.SeedSequence([seed, RANK_SEED_STREAM, step, ranks.rank]).generate_state(1)[0]
        torch.manual_seed(int(state))


def synced(module: nn.Module, device: torch.device) -> nn.Module:
    """``module`` wrapped in DistributedDataParallel (gradients averaged, rank 0's buffers broadcast)."""
    import inspect

    from torch.nn.parallel import DistributedDataParallel

    device_ids = [device.index] if device.type == "cuda" else None
    # Newer torch renames broadcast_buffers (and warns about the old name); same meaning.
    accepted = inspect.signature(DistributedDataParallel.__init__).parameters
    sync = {"forward_sync_buffers": True} if "forward_sync_buffers" in accepted else {"broadcast_buffers": True}
    return DistributedDataParallel(module, device_ids=device_ids, **sync)


def sync_batchnorm(module: nn.Module, device: torch.device) -> tuple[nn.Module, bool]:
    """``module`` with its BatchNorm layers as SyncBatchNorm on CUDA; (module, whether converted).

    The converted layers reuse the original parameters and buffers, so optimisers and state-dict
    keys are unchanged."""
    has_batchnorm = any(isinstance(layer, nn.modules.batchnorm._BatchNorm) for layer in module.modules())
    if not has_batchnorm or device.type != "cuda":
        return module, False
    return nn.SyncBatchNorm.convert_sync_batchnorm(module), True


def distribute_trainer(trainer, ranks: Ranks, log) -> None:
    """Wrap a :class:`~inference.training.runtime.Trainer`'s generator and discriminator in DDP,
    with SyncBatchNorm where its :meth:`sync_batchnorm_targets` allow and the device supports it."""
    device = trainer.options.device
    converted: list[str] = []

    def convert(module: nn.Module) -> nn.Module:
        module, done = sync_batchnorm(module, device)
        converted.extend(["SyncBatchNorm"] if done else [])
        return module

    trainer.distribute(lambda module: synced(module, device), convert)
    batchnorm = "SyncBatchNorm where the model allows" if converted else "per-rank BatchNorm statistics, if any"
    log(f"data-parallel: {ranks.world} ranks, DDP on generator and discriminator, {batchnorm}")


def _replicated_tensors(module: nn.Module) -> Iterator[tuple[str, torch.Tensor]]:
    """Parameters and the buffers that must match on every rank (not per-rank BatchNorm statistics)."""
    yield from module.named_parameters()
    for name, buffer in module.named_buffers():
        if "running_" not in name and "num_batches_tracked" not in name:
            yield name, buffer


def weights_digest(modules: Mapping[str, nn.Module]) -> str:
    """sha256 over the exact bytes of every replicated tensor of ``modules``."""
    digest = hashlib.sha256()
    for module_name, module in sorted(modules.items()):
        for name, tensor in _replicated_tensors(module):
            digest.update(f"{module_name}.{name}".encode())
            digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def gather_digests(ranks: Ranks, modules: Mapping[str, nn.Module]) -> list[str]:
    """Every rank's :func:`weights_digest`, in rank order (a collective call)."""
    mine = weights_digest(modules)
    if not ranks.distributed:
        return [mine]
    everyone: list[str | None] = [None] * ranks.world
    dist.all_gather_object(everyone, mine)
    return [str(value) for value in everyone]
