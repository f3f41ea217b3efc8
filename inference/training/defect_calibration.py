"""``train defects-calibrate``: choose the detector's thresholds on held-out train photos.

    python main.py train defects-calibrate weights/defect_detector.safetensors

The photos are the ones :mod:`inference.training.defect_trainer` held out (listed in the model
card), never dev_eval. Each gets each damage kind alone, for ``--seeds`` seeds, as the restoration
benchmark does; the network runs once per case and its marks are scored at every setting of a
grid. Chosen, at the default sensitivity:

* ``refine_stroke``: the threshold with the best mean F1 over the five kinds, then one threshold per
  kind, and how far speck-sized marks must stand out of their surroundings, where that adds F1;
* ``propose_dust``: a threshold, a seed (parts are traced above the threshold and kept where they
  reach the seed: hysteresis) and a speck contrast (how far a speck must stand out of the texture
  around it), the setting with the highest recall at which dust's precision reaches the aim with
  a margin for photo-to-photo spread (:mod:`inference.training.proposal_calibration`), counting the
  marks made on the undamaged photos as false too;
* ``propose_damage``: channel by channel, a threshold and a seed for the scratch and tear outputs
  together, then for the crack output added to them, each chosen as dust's is but with *every* line
  kind (scratches, cracks, tears, each scored alone) held to the aim. The crack channel is left out
  when no setting of its own adds recall there.

The settings and the scores they reach are written into the model card.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from inference.engines.regions import Box
from inference.io.images import open_image
from inference.restoration.detector import LINE_KINDS, load_detector
from inference.restoration.learned import (
    grown,
    speck_difference,
    stroke_marks_from,
    stroke_probability,
    whole_photo,
    working_copy,
)
from inference.restoration.scoring import Counts, pixel_counts
from inference.restoration.synthetic import KINDS, render_damage
from inference.training.defect_options import add_calibration_options
from inference.training.defects import data_note
from inference.training.proposal_calibration import (
    CONFIDENCE,
    GRID,
    PRECISION_AIM,
    SPECK_CONTRASTS,
    ProposalCase,
    choose_damage,
    choose_dust,
)
from inference.weights.store import write_card

ROUNDS = 3  # passes of the per-kind search for refine_stroke
LEAST_GAIN = 0.002  # mean F1 a per-kind threshold must add to be taken (smaller gains are noise on 40 photos)
SPECK = "speck contrast"  # the refine search's one coordinate that is not a kind's threshold


@dataclass
class StrokeCase:
    """One simulated Stroke: the kind rendered, the per-kind probabilities over its box, the Stroke and
    the damage in that box, the box's speck difference and the photo's shorter side."""

    kind: str
    probability: np.ndarray
    part: np.ndarray
    truth: np.ndarray
    difference: np.ndarray
    photo_side: int

    def counts(self, thresholds: np.ndarray, speck_contrast: float = 0.0) -> Counts:
        marks = stroke_marks_from(self.probability, Box(0, 0, *self.part.shape), None, self.part, thresholds, "auto",
                                  speck_contrast, self.difference, self.photo_side)
        return pixel_counts(grown(marks, 2), self.truth)


def held_out_photos(card: dict, data: Path) -> list[Path]:
    names = set(card.get("held_out_photos", []))
    folder = data / "train" / "images"
    return sorted(folder / name for name in names if (folder / name).is_file())


def score_grid(detector, paths: list[Path], seeds: int) -> tuple[list[StrokeCase], list[ProposalCase]]:
    """(the Stroke cases, the whole-photo cases): each photo undamaged (kind "clean") and with each
    kind alone for ``seeds`` seeds; the network runs once per case."""
    strokes: list[StrokeCase] = []
    proposals: list[ProposalCase] = []
    for index, path in enumerate(paths):
        clean = open_image(path).pixels
        nothing = np.zeros(clean.shape[:2], bool)
        proposals.append(ProposalCase.of("clean", index, whole_photo(detector, clean), detector.kinds,
                                         ("dust",) + LINE_KINDS, nothing, speck_difference(working_copy(clean))))
        for seed in range(seeds):
            for kind_index, kind in enumerate(KINDS):
                photo = render_damage(clean, np.random.default_rng([seed, index, kind_index, 99]), (kind,))
                truth = photo.masks[kind]
                if not truth.any():
                    continue
                stroke = _rough_stroke(truth, np.random.default_rng([seed, index, 7]))
                inside, box = stroke_probability(detector, photo.image, stroke)
                strokes.append(StrokeCase(kind, inside, stroke[box.slices], truth[box.slices],
                                          speck_difference(photo.image[box.slices]), min(clean.shape[:2])))
                if kind == "dust":
                    proposals.append(ProposalCase.of(kind, index, whole_photo(detector, photo.image), detector.kinds,
                                                     ("dust",), truth, speck_difference(working_copy(photo.image))))
                elif kind in LINE_KINDS:
                    proposals.append(ProposalCase.of(kind, index, whole_photo(detector, photo.image), detector.kinds,
                                                     LINE_KINDS, truth))
        print(f"{index + 1}/{len(paths)} {path.name}", file=sys.stderr, flush=True)
    return strokes, proposals


def refine_scores(cases: list[StrokeCase], kinds: tuple[str, ...]) -> dict:
    """{("refine_stroke", kind, (threshold,)): Counts} with one threshold for every output."""
    scores: dict = {}
    for threshold in GRID:
        same_for_all = np.full(len(kinds), threshold, np.float32)
        for case in cases:
            scores.setdefault(("refine_stroke", case.kind, (threshold,)), Counts()).__iadd__(case.counts(same_for_all))
    return scores


def _rough_stroke(truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The damage grown by a random 5-20 px: the Stroke a person paints over it, as the benchmark simulates."""
    radius = int(rng.integers(5, 21))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(truth.astype(np.uint8), disc).astype(bool)


def best_refine_threshold(scores: dict) -> float:
    """The one threshold for every output with the best mean F1 over the kinds."""
    mean_f1 = {t: np.mean([scores[("refine_stroke", k, (t,))].f1 for k in KINDS if ("refine_stroke", k, (t,)) in scores])
               for t in GRID}
    return max(mean_f1, key=mean_f1.get)


def per_kind_refine(cases: list[StrokeCase], kinds: tuple[str, ...], start: float) -> tuple[dict, float, dict]:
    """({kind: threshold}, speck contrast, {kind: F1}) for refine_stroke: from ``start`` for every
    output and no speck contrast, each output's threshold in turn, then the speck contrast, moved
    over its grid while the mean F1 over the rendered kinds rises by at least ``LEAST_GAIN`` (a thin
    crack wants a lower bar than a speck on grainy paper)."""
    grids = {**dict.fromkeys(kinds, GRID), SPECK: SPECK_CONTRASTS}

    def scored(chosen: dict) -> tuple[float, dict]:
        vector = np.array([chosen[kind] for kind in kinds], np.float32)
        totals: dict[str, Counts] = {}
        for case in cases:
            totals.setdefault(case.kind, Counts()).__iadd__(case.counts(vector, chosen[SPECK]))
        return float(np.mean([c.f1 for c in totals.values()])), {k: round(c.f1, 3) for k, c in totals.items()}

    chosen = {**dict.fromkeys(kinds, start), SPECK: 0.0}
    best, f1 = scored(chosen)
    for _ in range(ROUNDS):
        before = best
        for coordinate, grid in grids.items():
            for value in grid:
                trial = dict(chosen, **{coordinate: value})
                score, trial_f1 = scored(trial)
                if score >= best + LEAST_GAIN:
                    chosen, best, f1 = trial, score, trial_f1
        if best == before:
            break
    contrast = chosen.pop(SPECK)
    return chosen, contrast, f1


def write_table(scores: dict, path: Path) -> None:
    """Every setting's counts as JSON lines, to study other choices without running the network again."""
    with open(path, "w", encoding="utf-8") as out:
        for (function, kind, setting), counts in sorted(scores.items(), key=str):
            out.write(json.dumps({"function": function, "kind": kind, "setting": setting, **vars(counts)}) + "\n")


def calibrate(weights: Path, data: Path, seeds: int, limit: int, table: Path | None = None) -> dict:
    detector = load_detector(weights)
    paths = held_out_photos(detector.card, data)[: limit or None]
    if not paths:
        raise SystemExit(f"none of the card's held-out photos are under {data / 'train'}")
    strokes, proposals = score_grid(detector, paths, seeds)
    scores = refine_scores(strokes, detector.kinds)
    kind_thresholds, refine_contrast, refine_reached = per_kind_refine(strokes, detector.kinds,
                                                                        best_refine_threshold(scores))
    dust, dust_reached, dust_totals = choose_dust(proposals, len(paths))
    channels, damage_reached, damage_totals = choose_damage(proposals, len(paths))
    if table:
        for function, totals in [("propose_dust", dust_totals)] + [("propose_damage", t) for t in damage_totals]:
            scores.update({(function, kind, setting): counts for (kind, setting), counts in totals.pooled().items()})
        write_table(scores, table)
    card = {key: value for key, value in detector.card.items() if key != "proposed_damage"}  # the channels say it now
    card.update(thresholds={"refine_stroke": best_refine_threshold(scores), "propose_dust": dust[0]},
                seed_thresholds={"propose_dust": dust[1]}, speck_contrast=dust[2], damage_channels=channels,
                refine_speck_contrast=refine_contrast,
                kind_thresholds={"refine_stroke": kind_thresholds},
                data=detector.card.get("data") or data_note(data, detector.card["held_out_photos"]),
                calibration={"photos": len(paths), "seeds": seeds, "precision_aim": PRECISION_AIM,
                             "precision_confidence": CONFIDENCE,
                             "reached_on_held_out_train_photos": {"refine_stroke": refine_reached,
                                                                  "propose_dust": dust_reached,
                                                                  "propose_damage": damage_reached}})
    write_card(Path(weights), card)
    return card


def run(args: argparse.Namespace) -> None:
    card = calibrate(args.weights, args.data, args.seeds, args.photos, args.table)
    print(json.dumps({key: card[key] for key in ("thresholds", "seed_thresholds", "speck_contrast", "kind_thresholds",
                                                 "refine_speck_contrast", "damage_channels", "calibration")}, indent=2))


def main(argv: list[str] | None = None) -> int:
    parse = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_calibration_options(parse)
    run(parse.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
