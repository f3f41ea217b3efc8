"""Feeding the GPU: whole batches built on CPU worker processes, in step order, from any step on.

One item of the dataset is one complete batch (see :class:`~inference.training.sampling.BatchMaker`),
indexed by its training step; the sampler counts steps up from where training resumes. The
DataLoader returns items in sampler order, so the stream of batches is the same with 0 or 16
workers. Workers are spawned, not forked: a process forked after OpenCV or OpenMP started their
thread pools can deadlock on a lock the parent held (seen here with cv2.resize). Each worker gets
the pack's compressed bytes and decodes the photos it needs once.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from inference.training.sampling import BatchMaker


class StepBatches(Dataset):
    def __init__(self, maker: BatchMaker) -> None:
        self.maker = maker

    def __len__(self) -> int:  # unbounded: the sampler decides
        return 2**62

    def __getitem__(self, step: int) -> dict[str, torch.Tensor]:
        return to_tensors(self.maker.make(step))


class StepsFrom(Sampler[int]):
    """step, step + 1, step + 2, ... without end."""

    def __init__(self, start: int) -> None:
        self.start = start

    def __iter__(self) -> Iterator[int]:
        return itertools.count(self.start)


def to_tensors(batch: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Channels-first uint8/bool tensors (converted to float on the device, which is cheaper)."""
    return {
        "images": torch.from_numpy(batch["images"]).permute(0, 3, 1, 2),
        "masks": torch.from_numpy(batch["masks"])[:, None],
        "guides": torch.from_numpy(batch["guides"])[:, None],
        "photos": torch.from_numpy(batch["photos"]),
    }


def _quiet_worker(_worker_id: int) -> None:
    # Each worker builds whole batches; OpenCV's own thread pool would only oversubscribe the cores.
    cv2.setNumThreads(1)


def batch_stream(maker: BatchMaker, start_step: int, workers: int, pin_memory: bool) -> Iterator[dict]:
    """Batches for steps start_step, start_step + 1, ... (an endless iterator)."""
    options: dict = {}
    if workers > 0:
        options = {"prefetch_factor": 4, "worker_init_fn": _quiet_worker, "multiprocessing_context": "spawn"}
    loader = DataLoader(
        StepBatches(maker), batch_size=None, sampler=StepsFrom(start_step),
        num_workers=workers, pin_memory=pin_memory, **options,
    )
    return iter(loader)


def device_batch(batch: dict[str, torch.Tensor], device: torch.device, channels_last: bool) -> dict[str, torch.Tensor]:
    """Float tensors on ``device``: ``images`` RGB [0, 1], ``masks`` 1 = Hole, ``guides`` {0, 1}."""
    memory = torch.channels_last if channels_last else torch.contiguous_format
    non_blocking = device.type == "cuda"

    def move(tensor: torch.Tensor) -> torch.Tensor:
        moved = tensor.to(device, non_blocking=non_blocking).float()
        return moved.contiguous(memory_format=memory)

    return {
        "images": move(batch["images"]).div_(255.0),
        "masks": move(batch["masks"]),
        "guides": move(batch["guides"]).div_(255.0),
    }
