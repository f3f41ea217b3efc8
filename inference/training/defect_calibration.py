"""``train defects-calibrate``: choose the detector's thresholds on held-out train photos.

    python main.py train defects-calibrate weights/defect_detector.safetensors

The photos are the ones :mod:`inference.training.defect_trainer` held out (listed in the model
card), never dev_eval. Each gets each damage kind alone, for ``--seeds`` seeds, as the restoration
benchmark does; the network runs once per case and its marks are scored at every threshold of a
grid. Chosen, at the default sensitivity:

* ``refine_stroke``: the threshold with the best mean F1 over the five kinds;
* ``propose_dust``: a threshold and a seed (parts are traced above the threshold and kept where
  they reach the seed: hysteresis), the pair with the highest recall at which dust reaches
  precision ``PRECISION_AIM`` (false marks cost the user more than misses), counting the marks made
  on the undamaged photos as false too; when no pair gets there with some recall, the most precise;
* ``propose_damage``: channel by channel (``DAMAGE_CHANNELS``), a threshold and a seed for the
  scratch and tear outputs together, then for the crack output added to them, each chosen as dust's
  is but with *every* line kind (scratches, cracks, tears, each scored alone) held to the aim. The
  crack channel is left out when no pair of its own adds recall at that precision.

The thresholds and the scores they reach are written into the model card.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from inference.engines.regions import Box
from inference.io.images import open_image
from inference.restoration.detector import LINE_KINDS, load_detector
from inference.restoration.filters import grow, mask_to_size
from inference.restoration.learned import (
    dust_marks_from,
    grown,
    long_parts,
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
# Proposals are traced above a threshold and kept where they reach a seed (hysteresis); the seed
# grid is coarser (every other value), which keeps a calibration run to minutes.
_PAIRS = tuple((t, s) for t in GRID for s in sorted(set(GRID[::2]) | {t}) if s >= t)
# Whole-photo damage joins channels, chosen in this order: scratches and tears, then cracks (jagged
# 1-2 px lines that look most like hair and twigs) with a bar of their own.
DAMAGE_CHANNELS = (("scratch", "torn"), ("crack",))
SETTINGS = {"refine_stroke": tuple((t,) for t in GRID), "propose_dust": _PAIRS}


ROUNDS = 3  # passes of the per-kind search for refine_stroke
LEAST_GAIN = 0.002  # mean F1 a per-kind threshold must add to be taken (smaller gains are noise on 40 photos)


@dataclass
class StrokeCase:
    """One simulated Stroke: the kind rendered, the per-kind probabilities over its box, the Stroke and
    the damage in that box."""

    kind: str
    probability: np.ndarray
    part: np.ndarray
    truth: np.ndarray

    def counts(self, thresholds: np.ndarray) -> Counts:
        marks = stroke_marks_from(self.probability, Box(0, 0, *self.part.shape), None, self.part, thresholds, "auto")
        return pixel_counts(grown(marks, 2), self.truth)


@dataclass
class DamageCase:
    """One photo for whole-photo damage: the kind rendered ("clean": none), the line outputs'
    probabilities on the working copy (``LINE_KINDS`` order), the damage's Mask and that Mask grown
    by the scoring tolerance (kept: every setting is scored against it)."""

    kind: str
    lines: np.ndarray
    truth: np.ndarray
    near_truth: np.ndarray

    @classmethod
    def of(cls, kind: str, probability: np.ndarray, kinds: tuple[str, ...], truth: np.ndarray) -> DamageCase:
        lines = probability[[kinds.index(line) for line in LINE_KINDS]].astype(np.float16)
        return cls(kind, lines, truth, grow(truth, 2))

    def outputs(self, kinds: tuple[str, ...]) -> np.ndarray:
        return self.lines[[LINE_KINDS.index(kind) for kind in kinds]].max(axis=0).astype(np.float32)

    def counts(self, marks: np.ndarray) -> Counts:
        """The score of working-copy ``marks``, at the photo's size and with the proposals' growth."""
        return pixel_counts(grown(mask_to_size(marks, self.truth.shape), 1), self.truth, near_truth=self.near_truth)


def held_out_photos(card: dict, data: Path) -> list[Path]:
    names = set(card.get("held_out_photos", []))
    folder = data / "train" / "images"
    return sorted(folder / name for name in names if (folder / name).is_file())


def score_grid(detector, paths: list[Path], seeds: int) -> tuple[dict, list[StrokeCase], list[DamageCase]]:
    """({(function, kind, setting): Counts}, the Stroke cases, the whole-photo damage cases), with
    kind "clean" for the undamaged photos; a setting is (threshold,) for refine_stroke (scored from
    the cases, one threshold for every output) and (threshold, seed) for propose_dust. Damage is
    scored from its cases by :func:`choose_damage`, channel by channel."""
    scores: dict = {}
    cases: list[StrokeCase] = []
    damage: list[DamageCase] = []

    def add(function: str, kind: str, truth: np.ndarray, marks_at) -> None:
        for setting in SETTINGS[function]:
            counts = scores.setdefault((function, kind, setting), Counts())
            counts += pixel_counts(grown(marks_at(*setting), 1), truth)  # the proposals' default growth

    for index, path in enumerate(paths):
        clean = open_image(path).pixels
        shape = clean.shape[:2]
        nothing = np.zeros(shape, bool)
        probability = whole_photo(detector, clean)
        add("propose_dust", "clean", nothing, partial(dust_marks_from, probability, shape, detector))
        damage.append(DamageCase.of("clean", probability, detector.kinds, nothing))
        for seed in range(seeds):
            for kind_index, kind in enumerate(KINDS):
                photo = render_damage(clean, np.random.default_rng([seed, index, kind_index, 99]), (kind,))
                truth = photo.masks[kind]
                if not truth.any():
                    continue
                stroke = _rough_stroke(truth, np.random.default_rng([seed, index, 7]))
                inside, box = stroke_probability(detector, photo.image, stroke)
                cases.append(StrokeCase(kind, inside, stroke[box.slices], truth[box.slices]))
                if kind == "dust":
                    add("propose_dust", kind, truth, partial(dust_marks_from, whole_photo(detector, photo.image),
                                                             shape, detector))
                elif kind in LINE_KINDS:
                    damage.append(DamageCase.of(kind, whole_photo(detector, photo.image), detector.kinds, truth))
        print(f"{index + 1}/{len(paths)} {path.name}", file=sys.stderr, flush=True)
    for setting in SETTINGS["refine_stroke"]:
        same_for_all = np.full(len(detector.kinds), setting[0], np.float32)
        for case in cases:
            scores.setdefault(("refine_stroke", case.kind, setting), Counts()).__iadd__(case.counts(same_for_all))
    return scores, cases, damage


def _rough_stroke(truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The damage grown by a random 5-20 px: the Stroke a person paints over it, as the benchmark simulates."""
    radius = int(rng.integers(5, 21))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(truth.astype(np.uint8), disc).astype(bool)


def choose(scores: dict) -> tuple[dict, dict, dict]:
    """(thresholds, seed thresholds, what they reach) for refine_stroke and propose_dust."""
    refine = {t: np.mean([scores[("refine_stroke", k, t)].f1 for k in KINDS if ("refine_stroke", k, t) in scores])
              for t in SETTINGS["refine_stroke"]}
    best = max(refine, key=refine.get)
    reached = {"refine_stroke": {k: round(scores[("refine_stroke", k, best)].f1, 3) for k in KINDS
                                 if ("refine_stroke", k, best) in scores}}
    pick = _most_recall_at_aim({setting: [_with_clean(scores, "propose_dust", "dust", setting)]
                                for setting in SETTINGS["propose_dust"]})
    reached["propose_dust"] = {"dust": _summary(_with_clean(scores, "propose_dust", "dust", pick))}
    return {"refine_stroke": best[0], "propose_dust": pick[0]}, {"propose_dust": pick[1]}, reached


def choose_damage(cases: list[DamageCase], scores: dict | None = None) -> tuple[list[dict], dict]:
    """(the damage channels, {line kind: precision and recall they reach}).

    Each channel of ``DAMAGE_CHANNELS`` in turn gets the (threshold, seed) pair that, joined to the
    channels already chosen, gives the best mean recall over the line kinds with every one of them
    at ``PRECISION_AIM`` (marks on the undamaged photos counted as false); a channel after the first
    may also be left out, which it is unless some pair adds recall. ``scores`` gets every setting's
    counts, for the table."""
    chosen: list[dict] = []
    before = [np.zeros(case.lines.shape[1:], bool) for case in cases]
    totals: dict = {}
    for outputs in DAMAGE_CHANNELS:
        totals = _channel_totals(cases, before, outputs, optional=bool(chosen))
        if scores is not None:
            scores.update({("propose_damage", kind, (outputs, setting)): counts
                           for setting, by_kind in totals.items() for kind, counts in by_kind.items()})
        pick = _most_recall_at_aim({setting: [_kind_with_clean(by_kind, kind) for kind in LINE_KINDS]
                                    for setting, by_kind in totals.items()}, optional=bool(chosen))
        if pick is None:
            totals = {None: totals[None]}
            continue
        chosen.append({"outputs": list(outputs), "threshold": pick[0], "seed": pick[1]})
        before = [marks | long_parts(case.outputs(outputs), *pick) for marks, case in zip(before, cases, strict=True)]
        totals = {None: totals[pick]}
    return chosen, {kind: _summary(_kind_with_clean(totals[None], kind)) for kind in LINE_KINDS}


def _channel_totals(cases: list[DamageCase], before: list[np.ndarray], outputs: tuple[str, ...],
                    optional: bool) -> dict:
    """{(threshold, seed) or None (the channel left out): {kind: Counts}} of ``outputs`` joined to
    the marks ``before`` (one array per case)."""
    totals: dict = {}
    for case, marks in zip(cases, before, strict=True):
        probability = case.outputs(outputs)
        for setting in _PAIRS + ((None,) if optional else ()):
            joined = marks if setting is None else marks | long_parts(probability, *setting)
            totals.setdefault(setting, {}).setdefault(case.kind, Counts()).__iadd__(case.counts(joined))
    return totals


def per_kind_refine(cases: list[StrokeCase], kinds: tuple[str, ...], start: float) -> tuple[dict, dict]:
    """({kind: threshold}, {kind: F1}) for refine_stroke: from ``start`` for every output, each output's
    threshold in turn moved over the grid while the mean F1 over the rendered kinds rises by at
    least ``LEAST_GAIN`` (a thin crack wants a lower bar than a speck on grainy paper)."""

    def scored(chosen: dict) -> tuple[float, dict]:
        vector = np.array([chosen[kind] for kind in kinds], np.float32)
        totals: dict[str, Counts] = {}
        for case in cases:
            totals.setdefault(case.kind, Counts()).__iadd__(case.counts(vector))
        return float(np.mean([c.f1 for c in totals.values()])), {k: round(c.f1, 3) for k, c in totals.items()}

    chosen = dict.fromkeys(kinds, start)
    best, f1 = scored(chosen)
    for _ in range(ROUNDS):
        before = best
        for kind in kinds:
            for threshold in GRID:
                trial = dict(chosen, **{kind: threshold})
                score, trial_f1 = scored(trial)
                if score >= best + LEAST_GAIN:
                    chosen, best, f1 = trial, score, trial_f1
        if best == before:
            break
    return chosen, f1


def _summary(counts: Counts) -> dict:
    return {"precision": round(counts.precision, 3), "recall": round(counts.recall, 3)}


def _kind_with_clean(by_kind: dict, kind: str) -> Counts:
    total = Counts()
    total += by_kind.get(kind, Counts())
    total += by_kind.get("clean", Counts())
    return total


def _with_clean(scores: dict, function: str, kind: str, setting: tuple) -> Counts:
    """One kind's counts plus the marks made on the undamaged photos (all of them false)."""
    total = Counts()
    total += scores.get((function, kind, setting), Counts())
    total += scores.get((function, "clean", setting), Counts())
    return total


def _most_recall_at_aim(per_kind: dict, optional: bool = False):
    """The setting with the best mean recall among those where every kind reaches ``PRECISION_AIM``
    (each kind is scored alone, as the benchmark does: a precise tear detector must not hide a
    careless crack detector); when none does, the one whose worst kind is most precise, or, when
    ``optional``, the setting None (leaving the channel out, never held to the least recall)."""
    useful = {setting: counts for setting, counts in per_kind.items()
              if setting is None or min(c.recall for c in counts) >= LEAST_USEFUL_RECALL} or per_kind
    good = [setting for setting, counts in useful.items() if min(c.precision for c in counts) >= PRECISION_AIM]
    if good:
        return max(good, key=lambda setting: np.mean([c.recall for c in useful[setting]]))
    if optional:
        return None
    return max(useful, key=lambda setting: min(c.precision for c in useful[setting]))


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
    scores, cases, damage = score_grid(detector, paths, seeds)
    channels, reached_damage = choose_damage(damage, scores)
    if table:
        write_table(scores, table)
    thresholds, seed_thresholds, reached = choose(scores)
    kind_thresholds, reached["refine_stroke"] = per_kind_refine(cases, detector.kinds, thresholds["refine_stroke"])
    reached["propose_damage"] = reached_damage
    card = {key: value for key, value in detector.card.items() if key != "proposed_damage"}  # the channels say it now
    card.update(thresholds=thresholds, seed_thresholds=seed_thresholds, damage_channels=channels,
                kind_thresholds={"refine_stroke": kind_thresholds},
                data=detector.card.get("data") or data_note(data, detector.card["held_out_photos"]),
                calibration={"photos": len(paths), "seeds": seeds, "precision_aim": PRECISION_AIM,
                             "reached_on_held_out_train_photos": reached})
    write_card(Path(weights), card)
    return card


def run(args: argparse.Namespace) -> None:
    card = calibrate(args.weights, args.data, args.seeds, args.photos, args.table)
    print(json.dumps({key: card[key] for key in ("thresholds", "seed_thresholds", "kind_thresholds", "damage_channels",
                                                 "calibration")}, indent=2))


def main(argv: list[str] | None = None) -> int:
    parse = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_calibration_options(parse)
    run(parse.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
