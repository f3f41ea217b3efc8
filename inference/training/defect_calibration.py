"""``train defects-calibrate``: choose the detector's thresholds on held-out train photos.

    python main.py train defects-calibrate weights/defect_detector.safetensors

The photos are the ones :mod:`inference.training.defect_trainer` held out (listed in the model
card), never dev_eval. Each gets each damage kind alone, for ``--seeds`` seeds, as the restoration
benchmark does; the network runs once per case and its marks are scored at every threshold of a
grid. Chosen, at the default sensitivity:

* ``refine_stroke``: the threshold with the best mean F1 over the five kinds;
* ``propose_dust`` and ``propose_damage``: the highest recall whose precision is at least
  ``PRECISION_AIM`` (false marks cost the user more than misses), counting the marks made on the
  undamaged photos as false too; when no threshold reaches it with some recall, the best F1.

The thresholds and the scores they reach are written into the model card.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from inference.io.images import open_image
from inference.restoration.detector import load_detector
from inference.restoration.learned import (
    damage_marks_from,
    dust_marks_from,
    grown,
    stroke_marks_from,
    stroke_probability,
    whole_photo,
)
from inference.restoration.scoring import Counts, pixel_counts
from inference.restoration.synthetic import KINDS, render_damage
from inference.training.defect_options import add_calibration_options
from inference.training.defects import data_note
from inference.weights.store import write_card

GRID = tuple(float(t) for t in np.round(np.arange(0.05, 0.96, 0.05), 2))
PRECISION_AIM = 0.8  # the precision target for the proposals
LEAST_USEFUL_RECALL = 0.05  # below it a threshold marks (almost) nothing, whatever its precision
DAMAGE_KINDS = ("scratch", "crack", "torn")


def held_out_photos(card: dict, data: Path) -> list[Path]:
    names = set(card.get("held_out_photos", []))
    folder = data / "train" / "images"
    return sorted(folder / name for name in names if (folder / name).is_file())


def score_grid(detector, paths: list[Path], seeds: int) -> dict:
    """{(function, kind, threshold): Counts}, with kind "clean" for the undamaged photos."""
    scores: dict = {}

    def add(function: str, kind: str, truth: np.ndarray, marks_at, grow_px: int = 1) -> None:
        for threshold in GRID:
            counts = scores.setdefault((function, kind, threshold), Counts())
            counts += pixel_counts(grown(marks_at(threshold), grow_px), truth)

    for index, path in enumerate(paths):
        clean = open_image(path).pixels
        shape = clean.shape[:2]
        nothing = np.zeros(shape, bool)
        probability = whole_photo(detector, clean)
        add("propose_dust", "clean", nothing, partial(dust_marks_from, probability, shape, detector))
        add("propose_damage", "clean", nothing, partial(damage_marks_from, probability, shape, detector))
        for seed in range(seeds):
            for kind_index, kind in enumerate(KINDS):
                photo = render_damage(clean, np.random.default_rng([seed, index, kind_index, 99]), (kind,))
                truth = photo.masks[kind]
                if not truth.any():
                    continue
                stroke = _rough_stroke(truth, np.random.default_rng([seed, index, 7]))
                inside, window = stroke_probability(detector, photo.image, stroke)
                add("refine_stroke", kind, truth,
                    lambda t, p=inside, w=window, i=photo.image, s=stroke: stroke_marks_from(p, w, i, s, t, "auto"), 2)
                if kind == "dust":
                    add("propose_dust", kind, truth, partial(dust_marks_from, whole_photo(detector, photo.image),
                                                             shape, detector))
                elif kind in DAMAGE_KINDS:
                    add("propose_damage", kind, truth, partial(damage_marks_from, whole_photo(detector, photo.image),
                                                               shape, detector))
        print(f"{index + 1}/{len(paths)} {path.name}", file=sys.stderr, flush=True)
    return scores


def _rough_stroke(truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The damage grown by a random 5-20 px: the Stroke a person paints over it, as the benchmark simulates."""
    radius = int(rng.integers(5, 21))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(truth.astype(np.uint8), disc).astype(bool)


def choose(scores: dict) -> tuple[dict, dict]:
    """(thresholds, what they reach) per function."""
    thresholds, reached = {}, {}
    refine = {t: np.mean([scores[("refine_stroke", k, t)].f1 for k in KINDS if ("refine_stroke", k, t) in scores])
              for t in GRID}
    best = max(GRID, key=lambda t: refine[t])
    thresholds["refine_stroke"] = best
    reached["refine_stroke"] = {k: round(scores[("refine_stroke", k, best)].f1, 3) for k in KINDS
                                if ("refine_stroke", k, best) in scores}
    for function, kinds in (("propose_dust", ("dust",)), ("propose_damage", DAMAGE_KINDS)):
        pooled = {}
        for t in GRID:
            total = Counts()
            for kind in kinds + ("clean",):
                total += scores.get((function, kind, t), Counts())
            pooled[t] = total
        good = [t for t in GRID if pooled[t].precision >= PRECISION_AIM and pooled[t].recall >= LEAST_USEFUL_RECALL]
        pick = max(good, key=lambda t: pooled[t].recall) if good else max(GRID, key=lambda t: pooled[t].f1)
        thresholds[function] = pick
        reached[function] = {"precision": round(pooled[pick].precision, 3), "recall": round(pooled[pick].recall, 3)}
    return thresholds, reached


def calibrate(weights: Path, data: Path, seeds: int, limit: int) -> dict:
    detector = load_detector(weights)
    paths = held_out_photos(detector.card, data)[: limit or None]
    if not paths:
        raise SystemExit(f"none of the card's held-out photos are under {data / 'train'}")
    thresholds, reached = choose(score_grid(detector, paths, seeds))
    card = dict(detector.card, thresholds=thresholds, data=detector.card.get("data") or data_note(data, detector.card["held_out_photos"]),
                calibration={"photos": len(paths), "seeds": seeds, "precision_aim": PRECISION_AIM,
                             "reached_on_held_out_train_photos": reached})
    write_card(Path(weights), card)
    return card


def run(args: argparse.Namespace) -> None:
    card = calibrate(args.weights, args.data, args.seeds, args.photos)
    print(json.dumps({"thresholds": card["thresholds"], "calibration": card["calibration"]}, indent=2))


def main(argv: list[str] | None = None) -> int:
    parse = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_calibration_options(parse)
    run(parse.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
