"""``train defects``: teach the defect detector on synthetic damage, on the CPU or a GPU.

    python main.py train defects --minutes 50 -o weights/defect_detector.safetensors

Examples come from :mod:`inference.training.defects` (made once at the start on all cores, then
flipped and turned each step). The loss is binary cross-entropy per kind plus a soft Dice term on
all kinds together (damage is a few per cent of the pixels at most); pixels within a pixel of
damage but not in its Mask are not scored, since the detectors grow their marks by that much
anyway and the 2-px scoring tolerance forgives it. ``--val-photos`` train photos are held out and
never trained on: the thresholds in the model card are chosen on them
(:mod:`inference.training.defect_calibration`).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import multiprocessing
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from safetensors.torch import save_file
from torch.nn import functional as F

from inference.restoration.detector import ARCHITECTURE, load_detector
from inference.restoration.network import DefectNet, DetectorConfig, hints, image_tensor
from inference.training.defect_options import add_training_options
from inference.training.defects import Examples, clean_photos, data_note, make_examples, stroke_hints
from inference.weights.store import write_card

VALIDATION_SEED = 11
WARMUP_STEPS = 200


def split_photos(data: Path, val_photos: int) -> tuple[list[Path], list[Path]]:
    """(training, held-out) train photos; the split is fixed by ``VALIDATION_SEED``."""
    paths = clean_photos(data)
    order = np.random.default_rng(VALIDATION_SEED).permutation(len(paths))
    held = {int(i) for i in order[:val_photos]}
    return [p for i, p in enumerate(paths) if i not in held], [paths[i] for i in sorted(held)]


def _examples_job(job: tuple[list[Path], int, int, int]) -> Examples:
    paths, seed, size, renders = job
    cv2.setNumThreads(1)
    return make_examples(paths, seed, size, renders)


def build_examples(paths: list[Path], seed: int, size: int, renders: int, workers: int) -> Examples:
    """All examples, made by ``workers`` spawned processes (forking after OpenCV started can deadlock)."""
    chunks = [(paths[i::workers * 4], seed * 1000 + i, size, renders) for i in range(workers * 4) if paths[i::workers * 4]]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        parts = pool.map(_examples_job, chunks)
    return Examples(*(np.concatenate([getattr(p, name) for p in parts]) for name in ("images", "masks", "borders")))


def batch_of(examples: Examples, rng: np.random.Generator, batch: int) -> dict[str, torch.Tensor]:
    picks = rng.integers(0, len(examples), batch)
    images, masks, borders = examples.images[picks], examples.masks[picks], examples.borders[picks]
    turns, flip = int(rng.integers(4)), bool(rng.random() < 0.5)

    images = np.ascontiguousarray(np.rot90(images, turns, axes=(1, 2)))
    masks = np.ascontiguousarray(np.rot90(masks, turns, axes=(2, 3)))
    borders = np.ascontiguousarray(np.rot90(borders, turns, axes=(1, 2)))
    if flip:
        images, masks, borders = (np.ascontiguousarray(a) for a in (images[:, :, ::-1], masks[..., ::-1], borders[..., ::-1]))
    strokes, modes = stroke_hints(masks, rng)
    return {"image": image_tensor(torch.from_numpy(images)),
            "hint": hints(torch.from_numpy(strokes), torch.from_numpy(modes), torch.from_numpy(borders)),
            "target": torch.from_numpy(masks).float()}


def loss_of(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    union = target.amax(1, keepdim=True)
    near = F.max_pool2d(union, 3, stride=1, padding=1)
    scored = 1.0 - (near - union)  # the one-pixel halo around damage is not scored
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none", pos_weight=torch.tensor(3.0))
    bce = (bce * scored).sum() / (scored.sum() * logits.shape[1])
    probability = torch.sigmoid(logits).amax(1, keepdim=True) * scored
    dice = 1.0 - (2 * (probability * union).sum() + 1.0) / (probability.sum() + union.sum() + 1.0)
    return bce + 0.5 * dice


def train(args: argparse.Namespace) -> Path:
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    training, held_out = split_photos(args.data, args.val_photos)
    started = time.perf_counter()
    examples = build_examples(training[:args.photos] if args.photos else training, args.seed, args.size,
                              args.renders, args.workers)
    print(f"{len(examples)} examples from {len(training)} photos in {time.perf_counter() - started:.0f} s", flush=True)
    config = DetectorConfig(tuple(args.widths))
    network = DefectNet(config)
    initial = {}
    if args.init:
        # Go on from earlier weights (fine-tuning at a lower rate); their card must describe the same network.
        earlier = load_detector(args.init)
        network.load_state_dict(earlier.network.state_dict(), strict=True)
        initial = dict(earlier.card, trained_as=str(args.init))
    network.train()
    optimiser = torch.optim.AdamW(network.parameters(), lr=args.lr, weight_decay=1e-4)
    rng = np.random.default_rng(args.seed)
    training_started = time.perf_counter()
    deadline = training_started + 60 * args.minutes
    step, losses = 0, []
    while step < args.steps and time.perf_counter() < deadline:
        # Progress is whichever limit comes first, steps or minutes, so the schedule always ends annealed.
        share = min(1.0, max(step / args.steps, (time.perf_counter() - training_started) / (60 * args.minutes)))
        warmup = min(1.0, (step + 1) / WARMUP_STEPS)
        for group in optimiser.param_groups:
            group["lr"] = args.lr * warmup * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * share)))
        batch = batch_of(examples, rng, args.batch)
        loss = loss_of(network(batch["image"], batch["hint"]), batch["target"])
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
        optimiser.step()
        losses.append(float(loss.detach()))
        step += 1
        if step % 100 == 0:
            print(f"step {step} loss {np.mean(losses[-100:]):.4f} lr {optimiser.param_groups[0]['lr']:.2e} "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
    output = args.output
    card = _card(config, args, initial, step, losses, len(examples), training, held_out, time.perf_counter() - started)
    save_detector(network, output, card)
    print(json.dumps({k: v for k, v in card.items() if k != "held_out_photos"}), flush=True)
    return output


def _card(config, args, initial: dict, step: int, losses: list[float], examples: int, training, held_out,
          seconds: float) -> dict:
    """The model card: the network, every training stage so far, the data and its licences."""
    earlier = list(initial.get("stages", []))
    if initial and not earlier:  # a first stage written before cards listed their stages
        earlier = [{"steps": initial.get("steps"), "seconds": initial.get("seconds")}]
    stage = {"steps": step, "peak_learning_rate": args.lr, "seed": args.seed, "batch": args.batch,
             "example_size": args.size, "renders": args.renders, "examples": examples, "seconds": round(seconds),
             "final_loss": round(float(np.mean(losses[-200:])), 4) if losses else None}
    return {"architecture": ARCHITECTURE, **config.to_card(),
            "parameter_count": sum(p.numel() for p in DefectNet(config).parameters()),
            "description": "Defect detector (U-Net) for scratches, cracks, dust, stains and torn corners on old photos",
            "dtype": "float16", "trained": datetime.date.today().isoformat(),
            "steps": step + int(initial.get("steps", 0)),
            "examples_seen": step * args.batch + int(initial.get("examples_seen", 0)),
            "seconds": round(seconds) + int(initial.get("seconds", 0)), "stages": earlier + [stage],
            "training_photos": len(training), "held_out_photos": [p.name for p in held_out],
            "data": data_note(args.data, [p.name for p in held_out])}


def save_detector(network: DefectNet, output: Path, card: dict) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    state = {key: (value.detach().half() if value.is_floating_point() else value).contiguous()
             for key, value in network.state_dict().items()}
    save_file(state, str(output), metadata={"architecture": ARCHITECTURE})
    os.chmod(output, 0o644)  # safetensors writes owner-only files; weights are not secrets
    write_card(output, card)


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_training_options(parse)
    return parse


def main(argv: list[str] | None = None) -> int:
    train(parser().parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
