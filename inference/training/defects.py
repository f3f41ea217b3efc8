"""Training examples for the defect detector: synthetic damage on clean train photos, cut into crops.

Each clean photo (train scenes and faces only: the "old" photos carry real damage that no Mask
marks, and would teach the network to ignore it) is scaled to a random size, sometimes aged (grey,
sepia, film grain, softness, as old prints are), given 1-3 damage kinds by
:func:`inference.restoration.synthetic.render_damage`, and cut into crops that mostly contain
damage. A crop keeps the per-kind Masks and where the photo's own border runs (the network is told,
so that a crop's cut edge does not look like the edge of a print).

The Stroke hint is made per batch (:func:`stroke_hints`): half the examples get the damage of some
of their parts grown by 5-20 px, as a person paints with the Scratch brush; the other half search
the whole crop.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from inference.io.images import open_image
from inference.restoration.network import DAMAGE_KINDS
from inference.restoration.synthetic import render_damage

SHORT_SIDES = (256, 640)  # the photo's shorter side is scaled into this range before damage
CROPS_PER_PHOTO = 4
CLEAN_SHARE = 0.1  # photos given no damage at all
AIM_AT_DAMAGE = 0.75  # share of crops centred on a damaged pixel


@dataclass
class Examples:
    """``images`` (N, S, S, 3) uint8, ``masks`` (N, kinds, S, S) bool, ``borders`` (N, S, S) bool."""

    images: np.ndarray
    masks: np.ndarray
    borders: np.ndarray

    def __len__(self) -> int:
        return len(self.images)


def clean_photos(data: Path) -> list[Path]:
    """The train scenes and faces listed in ``data/train/index.csv``."""
    rows = (data / "train" / "index.csv").read_text(encoding="utf-8").splitlines()[1:]
    return sorted(data / "train" / row.split(",")[0] for row in rows if row.split(",")[1] in {"scene", "face"})


def data_note(data: Path, held_out: list[str]) -> dict:
    """What the model card says about the training photos: where from, how many, under which licences."""
    with open(data / "train" / "index.csv", newline="", encoding="utf-8") as table:
        rows = list(csv.reader(table))[1:]
    held = set(held_out)
    used = [row for row in rows if row[1] in {"scene", "face"} and Path(row[0]).name not in held]
    licences: dict[str, int] = {}
    for row in used:
        licence = row[4] if len(row) > 4 else "unknown"
        licences[licence] = licences.get(licence, 0) + 1
    return {"photos": "clean scenes and faces of the project's train pack (../shared/data/train, see its README); "
                      "never dev_eval; the 'old' photos are not used (their real damage has no Mask)",
            "photos_used": len(used), "categories": {c: sum(r[1] == c for r in used) for c in ("scene", "face")},
            "licences_of_training_photos": dict(sorted(licences.items(), key=lambda item: -item[1])),
            "licence_note": "The weights are ours (trained here from random initialisation). Some training photos are "
                            "under non-commercial licences (CC BY-NC, CC BY-NC-SA: CelebA-HQ, FFHQ, AFHQ) or "
                            "research-use terms (BSDS500); check those terms before any commercial use of these weights."}


def aged(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sometimes grey, sepia, grainy or soft: what old prints look like before any damage."""
    out = image.astype(np.float32)
    look = rng.random()
    if look < 0.5:
        grey = out @ np.array([0.299, 0.587, 0.114], np.float32)
        tint = np.array([1.0, 1.0, 1.0]) if look < 0.35 else np.array([1.07, 0.97, 0.82])
        out = grey[..., None] * tint.astype(np.float32)
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 1.2))
    if rng.random() < 0.5:
        out = out + rng.normal(0, rng.uniform(1, 6), out.shape[:2] + (1,)).astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def photo_examples(path: Path, rng: np.random.Generator, size: int) -> Examples:
    """``CROPS_PER_PHOTO`` crops of one damaged photo."""
    image = open_image(path).pixels
    short = rng.uniform(*SHORT_SIDES)
    factor = short / min(image.shape[:2])
    image = cv2.resize(image, (max(size, round(image.shape[1] * factor)), max(size, round(image.shape[0] * factor))),
                       interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)
    image = aged(image, rng)
    if rng.random() < CLEAN_SHARE:
        kinds: tuple[str, ...] = ()
    else:
        kinds = tuple(rng.choice(DAMAGE_KINDS, size=int(rng.integers(1, 4)), replace=False))
    photo = render_damage(image, rng, kinds)
    masks = np.stack([photo.masks.get(kind, np.zeros(image.shape[:2], bool)) for kind in DAMAGE_KINDS])
    border = np.zeros(image.shape[:2], bool)
    border[0], border[-1], border[:, 0], border[:, -1] = True, True, True, True
    damaged = np.argwhere(masks.any(axis=0))
    crops = []
    for _ in range(CROPS_PER_PHOTO):
        if len(damaged) and rng.random() < AIM_AT_DAMAGE:
            centre = damaged[int(rng.integers(len(damaged)))] + rng.integers(-size // 3, size // 3 + 1, 2)
        else:
            centre = np.array([rng.integers(image.shape[0]), rng.integers(image.shape[1])])
        top = int(np.clip(centre[0] - size // 2, 0, image.shape[0] - size))
        left = int(np.clip(centre[1] - size // 2, 0, image.shape[1] - size))
        window = (slice(top, top + size), slice(left, left + size))
        crops.append((photo.image[window], masks[(slice(None),) + window], border[window]))
    return Examples(*(np.stack(parts) for parts in zip(*crops, strict=True)))


def make_examples(paths: list[Path], seed: int, size: int = 128, renders: int = 1) -> Examples:
    """``renders`` differently damaged copies of each photo, ``CROPS_PER_PHOTO`` crops each."""
    parts = [photo_examples(path, np.random.default_rng([seed, index, render]), size)
             for index, path in enumerate(paths) for render in range(renders)]
    return Examples(*(np.concatenate([getattr(part, name) for part in parts]) for name in ("images", "masks", "borders")))


def stroke_hints(masks: np.ndarray, rng: np.random.Generator,
                 stroke_share: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Strokes (N, S, S) float32 and modes (N,): for ``stroke_share`` of the examples (mode 1), some
    damaged parts grown by 5-20 px; the others (mode 0) search the whole crop."""
    strokes = np.zeros((len(masks),) + masks.shape[-2:], np.float32)
    modes = np.zeros(len(masks), np.float32)
    for index, kinds in enumerate(masks):
        if rng.random() >= stroke_share:
            continue
        modes[index] = 1.0
        damage = kinds.any(axis=0).astype(np.uint8)
        count, labels = cv2.connectedComponents(damage, connectivity=8)
        chosen = np.zeros(damage.shape, np.uint8)
        if count > 1:
            keep = rng.random(count) < rng.uniform(0.3, 1.0)
            keep[0] = False
            chosen = keep[labels].astype(np.uint8)
        if not chosen.any() or rng.random() < 0.1:
            # A Stroke over clean photo (a person unsure, or a miss): nothing in it is damage.
            a, b = rng.integers(0, damage.shape[0], 2), rng.integers(0, damage.shape[1], 2)
            cv2.line(chosen, (int(b[0]), int(a[0])), (int(b[1]), int(a[1])), 1, 1)
        radius = int(rng.integers(5, 21))
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        strokes[index] = cv2.dilate(chosen, disc)
    return strokes, modes
