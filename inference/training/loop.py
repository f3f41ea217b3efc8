"""The training run: settings, resume, the step loop with its time limit, logs, previews, checkpoints.

A run writes into its ``out`` folder::

    log.jsonl                      one JSON record per log line (step, samples/s, mean losses)
    previews/step-NNNNNNN.png      input | guide | coarse | refined | truth of fixed validation samples
    checkpoints/step-NNNNNNN/      see inference.training.checkpoints; checkpoints/LATEST names the newest
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from inference.training import checkpoints
from inference.training.data import batch_stream, device_batch, to_tensors
from inference.training.distributed import (
    Ranks,
    distribute_trainer,
    gather_digests,
    process_group,
    rank_device,
    ranks_from_environment,
    seed_rank,
)
from inference.training.packfile import licence_summary, pack_fingerprint
from inference.training.runtime import (
    Trainer,
    hole_metrics,
    mix_for,
    run_options,
    save_preview,
    to_uint8,
    validation_batch,
)
from inference.training.sampling import BatchMaker, PackData

HISTORY_LENGTH = 500
VALIDATION_SAMPLES = 8


@dataclass
class TrainRequest:
    """What ``python main.py train deepfill|lbam`` asks for; None = the model's default (or the checkpoint's)."""

    model: str
    pack: Path
    out: Path
    minutes: float | None = None
    steps: int | None = None  # stop once the global step reaches this
    resume: Path | None = None
    batch: int | None = None
    width: float | None = None
    seed: int | None = None
    category_weights: dict[str, float] | None = None
    smoke: bool = False
    workers: int | None = None
    device: str | None = None
    compile: str = "auto"
    moments: str = "bf16"
    checkpoint_minutes: float = 5.0
    preview_minutes: float = 3.0
    log_seconds: float = 30.0
    keep: int = 2


@dataclass
class RunResult:
    step: int
    samples_seen: int
    checkpoint: Path | None
    stopped_because: str
    losses: dict[str, float] = field(default_factory=dict)
    samples_per_second: float = 0.0
    ranks: int = 1
    replica_digests: list[str] = field(default_factory=list)  # per rank, at the last checkpoint


def trainer_class(model: str) -> tuple[type[Trainer], dict[str, Any], dict[str, Any]]:
    if model == "deepfill":
        from inference.training import deepfill_trainer as module
        return module.DeepFillTrainer, module.DEFAULTS, module.SMOKE
    if model == "lbam":
        from inference.training import lbam_trainer as module
        return module.LBAMTrainer, module.DEFAULTS, module.SMOKE
    raise ValueError(f"unknown model {model!r}; choose deepfill or lbam")


def resolve_settings(request: TrainRequest, resumed: dict[str, Any] | None) -> dict[str, Any]:
    """The model and data settings: defaults (+ smoke) + explicit options, or the checkpoint's."""
    _, defaults, smoke = trainer_class(request.model)
    explicit = {key: value for key, value in (
        ("batch", request.batch), ("width", request.width), ("seed", request.seed),
        ("category_weights", request.category_weights),
    ) if value is not None}
    if resumed is None:
        return {**defaults, **(smoke if request.smoke else {}), **explicit, "smoke": request.smoke}
    if resumed["model"] != request.model:
        raise ValueError(f"the checkpoint trains {resumed['model']}, not {request.model}")
    settings = dict(resumed["settings"])
    for key, value in explicit.items():
        if settings.get(key) != value:
            raise ValueError(
                f"--{key.replace('_', '-')} {value} differs from the checkpoint's {settings.get(key)}; "
                "a resumed run keeps the checkpoint's settings so that it continues the same data stream"
            )
    return settings


class StopSignal:
    """SIGTERM / SIGINT end the run at the next step with a final checkpoint (while installed)."""

    def __init__(self) -> None:
        self.reason = ""

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopSignal]:
        def stop(signum: int, _frame: Any) -> None:
            self.reason = signal.Signals(signum).name

        previous = {}
        try:
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, stop)
        except ValueError:  # not the main thread: signals stay as they are
            pass
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def default_workers(device: torch.device, smoke: bool, ranks_here: int = 1) -> int:
    """Loader processes per rank: the machine's cores less two, shared by the ranks on this machine."""
    if smoke or device.type != "cuda":
        return 0
    return max(1, min(12, ((os.cpu_count() or 4) - 2) // ranks_here))


def train(request: TrainRequest, log=print, stop: StopSignal | None = None) -> RunResult:
    """Run (or continue) training as ``request`` says; returns where it stopped.

    Started by ``torchrun`` (WORLD_SIZE > 1), every process trains one rank of a data-parallel run
    (see :mod:`.distributed`) and only rank 0 logs; otherwise this is one ordinary process."""
    ranks = ranks_from_environment()
    threads = torch.get_num_threads()
    if request.smoke:
        # Tiny tensors: one thread avoids OpenMP spinning against other processes on shared CI cores.
        torch.set_num_threads(1)
    try:
        return _train(request, log if ranks.leader else _quiet, stop, ranks)
    finally:
        torch.set_num_threads(threads)


def _quiet(_line: str) -> None:
    return None


def _train(request: TrainRequest, log, stop: StopSignal | None, ranks: Ranks) -> RunResult:
    started = time.monotonic()
    stop = stop or StopSignal()
    resumed = checkpoints.read_state(request.resume) if request.resume else None
    settings = resolve_settings(request, resumed)
    # Compiling takes longer than a whole smoke run; only an explicit --compile on compiles there.
    options = run_options(rank_device(ranks, request.device),
                          "off" if request.smoke and request.compile == "auto" else request.compile)
    with process_group(ranks, options.device):
        return _train_ranks(request, log, stop, ranks, settings, options, resumed, started)


def _train_ranks(request, log, stop, ranks: Ranks, settings, options, resumed, started: float) -> RunResult:
    trainer_type, _, _ = trainer_class(request.model)
    data = PackData(request.pack, need_edges=request.model == "deepfill" and settings.get("input_channels") == 6)
    fingerprint = pack_fingerprint(request.pack)
    torch.manual_seed(int(settings["seed"]))
    trainer = trainer_type(settings, data, options)
    state = _fresh_state(request, settings, data, fingerprint, trainer)
    if resumed is not None:
        state = _resume(request, trainer, fingerprint, log)
    share = ranks.share(int(settings["batch"]))
    if ranks.distributed:
        seed_rank(ranks, int(settings["seed"]), state["step"])
        distribute_trainer(trainer, ranks, log)
    mix = mix_for(data, settings.get("category_weights"))
    maker = BatchMaker(data, trainer.batch_spec(), mix, share)
    validation = device_batch(to_tensors(validation_batch(maker, min(VALIDATION_SAMPLES, int(settings["batch"])))),
                              options.device, options.channels_last)
    workers = request.workers if request.workers is not None else default_workers(
        options.device, request.smoke, ranks.local_world)
    spread = f", {ranks.world} ranks of {len(share)} samples" if ranks.distributed else ""
    log(f"{request.model}: step {state['step']}, batch {settings['batch']}{spread}, {settings['size']} px, "
        f"{len(data)} photos, device {options.device}, bf16 {options.bf16}, compile {options.compile}, "
        f"workers {workers}")
    loop = _Loop(request, trainer, state, validation, log, started, ranks)
    stream = batch_stream(maker, state["step"], workers, pin_memory=options.device.type == "cuda")
    return loop.run(stream, options, stop)


def _fresh_state(request, settings, data, fingerprint, trainer) -> dict[str, Any]:
    mix = mix_for(data, settings.get("category_weights"))
    return {
        "model": request.model, "settings": settings, "step": 0, "samples_seen": 0, "train_seconds": 0.0,
        "runs": [], "history": [], "losses": {}, "metrics": {},
        "pack": {
            "name": Path(request.pack).name, "fingerprint": fingerprint, "photos": len(data),
            "mix": mix.describe([entry.colour for entry in data.entries]),
            "licences": licence_summary(data.entries), "edges": data.manifest.get("edges"),
            "max_side": data.manifest.get("max_side"), "jpeg_quality": data.manifest.get("jpeg_quality"),
        },
        "card": trainer.card_fields(),
    }


def _resume(request: TrainRequest, trainer: Trainer, fingerprint: str, log) -> dict[str, Any]:
    document, notes = checkpoints.load_checkpoint(
        request.resume, modules=trainer.modules(), optimizers=trainer.optimizers
    )
    for note in notes:
        log(f"note: {note}")
    if document["pack"]["fingerprint"] != fingerprint:
        log("warning: the pack differs from the one this checkpoint was trained on; the data stream will differ")
    state = {key: value for key, value in document.items()
             if key not in ("format", "version", "moments", "param_groups", "files", "sha256")}
    log(f"resumed from {checkpoints.resolve_checkpoint(request.resume)} at step {state['step']} "
        f"(moments stored as {document['moments']})")
    return state


class _Loop:
    def __init__(self, request: TrainRequest, trainer: Trainer, state: dict, validation: dict, log, started: float,
                 ranks: Ranks | None = None):
        self.request, self.trainer, self.state, self.validation, self.log = request, trainer, state, validation, log
        self.started = started
        self.ranks = ranks or Ranks()
        self.digests: list[str] = []
        self.limit = request.minutes * 60 if request.minutes else None
        self.save_seconds = 5.0
        self.checkpoint: Path | None = None
        self.sums: dict[str, torch.Tensor] = {}
        self.window_steps = 0
        self.window_started = time.monotonic()
        self.start_step = state["step"]
        self.last_record: dict[str, Any] = {}
        self.out = Path(request.out)
        if self.ranks.leader:
            self.out.mkdir(parents=True, exist_ok=True)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def stop_reason(self, stop: StopSignal, step_seconds: float) -> str:
        if stop.reason:
            return f"signal {stop.reason}"
        if self.request.steps is not None and self.state["step"] >= self.request.steps:
            return f"reached step {self.request.steps}"
        # Leave time for one more step, the final checkpoint and preview, inside the limit.
        if self.limit is not None and self.elapsed() + step_seconds + 2 * self.save_seconds >= self.limit:
            return f"time limit ({self.request.minutes:g} min)"
        return ""

    def agreed_stop(self, stop: StopSignal, step_seconds: float) -> str:
        """Rank 0's stop decision, on every rank (their clocks and signals may differ)."""
        reason = self.stop_reason(stop, step_seconds)
        if not self.ranks.distributed:
            return reason
        (stopping,) = self.ranks.agree([int(bool(reason))], self.trainer.options.device)
        return (reason if self.ranks.leader else "rank 0 ended the run") if stopping else ""

    def run(self, stream, options, stop: StopSignal) -> RunResult:
        batch_size = int(self.state["settings"]["batch"])
        run_started = time.monotonic()
        next_log = next_preview = next_checkpoint = run_started
        next_preview += self.request.preview_minutes * 60
        next_checkpoint += self.request.checkpoint_minutes * 60
        step_seconds, reason = 0.0, ""
        while not (reason := self.agreed_stop(stop, step_seconds)):
            tick = time.monotonic()
            batch = device_batch(next(stream), options.device, options.channels_last)
            self._accumulate(self._step(batch))
            self.state["step"] += 1
            self.state["samples_seen"] += batch_size
            now = time.monotonic()
            step_seconds = now - tick
            due_log, due_preview, due_checkpoint = self.ranks.agree(
                [now >= next_log or self.request.smoke, now >= next_preview, now >= next_checkpoint],
                self.trainer.options.device)
            if due_log:
                self._log_window()
                next_log = now + self.request.log_seconds
            if due_preview:
                self._preview()
                next_preview = now + self.request.preview_minutes * 60
            if due_checkpoint:
                self._save(run_started)
                next_checkpoint = time.monotonic() + self.request.checkpoint_minutes * 60
        del stream  # stops the loader's workers
        if self.window_steps:
            self._log_window()
        if self.state["step"] > self.start_step:
            self._preview()
            self._save(run_started)
        self.ranks.barrier()  # rank 0's last checkpoint is complete when any rank returns
        self.log(f"stopped at step {self.state['step']}: {reason}")
        done = self.state["step"] - self.start_step
        rate = done * batch_size / max(time.monotonic() - run_started, 1e-9)
        return RunResult(self.state["step"], self.state["samples_seen"], self.checkpoint, reason,
                         dict(self.state.get("losses", {})), rate, self.ranks.world, self.digests)

    def _step(self, batch) -> dict[str, torch.Tensor]:
        if not self.trainer.options.compile or self.state["step"] > self.start_step:
            return self.trainer.train_step(batch)
        # The first compiled step compiles; if that fails, undo its partial effects and go eager.
        snapshot = self.trainer.snapshot()
        try:
            return self.trainer.train_step(batch)
        except Exception as error:  # noqa: BLE001 - any compiler failure falls back to eager
            self.log(f"warning: torch.compile failed ({type(error).__name__}: {str(error)[:200]}); running eager")
            self.trainer.restore(snapshot)
            self.trainer.disable_compile()
            return self.trainer.train_step(batch)

    def _accumulate(self, losses: dict[str, torch.Tensor]) -> None:
        for name, value in losses.items():
            self.sums[name] = self.sums.get(name, 0) + value.detach().float()
        self.window_steps += 1

    def _log_window(self) -> None:
        now = time.monotonic()
        batch_size = int(self.state["settings"]["batch"])
        sums = self.ranks.mean(self.sums)  # every rank's window, averaged: the global batch's losses
        losses = {name: round(float(total) / self.window_steps, 5) for name, total in sums.items()}
        rate = self.window_steps * batch_size / max(now - self.window_started, 1e-9)
        record = {"step": self.state["step"], "samples_seen": self.state["samples_seen"],
                  "samples_per_second": round(rate, 2), "elapsed_s": round(self.elapsed(), 1), **losses}
        self.state["losses"] = losses
        self.state["history"] = (self.state["history"] + [record])[-HISTORY_LENGTH:]
        self.last_record = record
        self.sums, self.window_steps, self.window_started = {}, 0, now
        if not self.ranks.leader:
            return
        with open(self.out / "log.jsonl", "a", encoding="utf-8") as stream:
            stream.write(json.dumps(record) + "\n")
        shown = " ".join(f"{name} {value:.4f}" for name, value in losses.items())
        self.log(f"step {record['step']} | {rate:.1f} samples/s | {shown} | {record['elapsed_s']:.0f} s")

    def _preview(self) -> None:
        # Every rank renders (the same batch): a BatchNorm layer updates its statistics alike everywhere,
        # and a SyncBatchNorm layer needs all ranks in its forward. Only rank 0 writes.
        panels = self.trainer.render(self.validation)
        if not self.ranks.leader:
            return
        path = self.out / "previews" / f"step-{self.state['step']:07d}.png"
        save_preview(panels, path, self.trainer.preview_labels)
        truth = to_uint8(self.validation["images"])
        masks = self.validation["masks"][:, 0].bool().cpu().numpy()
        metrics = hole_metrics(truth, to_uint8(panels["result"]), masks)
        self.state["metrics"] = {**metrics, "step": self.state["step"],
                                 "on": f"{len(truth)} fixed validation crops of the training pack (not held out)"}

    def _save(self, run_started: float) -> None:
        began = time.monotonic()
        if self.ranks.distributed:
            self.digests = gather_digests(self.ranks, self.trainer.modules())
            if len(set(self.digests)) != 1:
                raise RuntimeError(f"the ranks' weights diverged (digests {self.digests}); not saving")
            if not self.ranks.leader:
                return
        runs = [run for run in self.state["runs"] if run.get("started_step") != self.start_step]
        this_run = {"started_step": self.start_step, "steps": self.state["step"] - self.start_step,
                    "seconds": round(began - run_started, 1), "device": str(self.trainer.options.device)}
        if self.ranks.distributed:
            this_run["ranks"] = self.ranks.world
        state = {**self.state, "runs": runs + [this_run],
                 "train_seconds": round(self.state["train_seconds"] + began - run_started, 1)}
        folder = self.out / "checkpoints" / f"step-{self.state['step']:07d}"
        checkpoints.save_checkpoint(folder, modules=self.trainer.modules(), optimizers=self.trainer.optimizers,
                                    state=state, moments=self.request.moments)
        checkpoints.mark_latest(folder.parent, folder, self.request.keep)
        self.checkpoint = folder
        self.save_seconds = max(2.0, time.monotonic() - began)
        self.log(f"checkpoint {folder} ({self.save_seconds:.1f} s)")
