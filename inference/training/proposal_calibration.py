"""The choice of the whole-photo proposals' settings (Detect dust, Detect damage) on held-out photos.

Used by :mod:`inference.training.defect_calibration`, which runs the network once per photo and
keeps a :class:`ProposalCase` of each; every setting is then scored from the cases.

A setting is held to the issue's precision aim not on the pooled photos alone but with a margin
for photo-to-photo spread: its precision must stay at ``PRECISION_AIM`` in ``CONFIDENCE`` of
bootstrap resamples of the photos. False marks bunch up in a few busy photos (foliage, fabric), so
the pooled precision of 40 photos can sit above the aim while another set of 40 falls below it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inference.restoration.detector import LINE_KINDS
from inference.restoration.filters import grow, mask_to_size
from inference.restoration.learned import grown, long_parts, speck_parts
from inference.restoration.scoring import TOLERANCE, Counts, pixel_counts

GRID = tuple(float(t) for t in np.round(np.arange(0.05, 0.96, 0.05), 2))
PRECISION_AIM = 0.8  # the precision target for the proposals
CONFIDENCE = 0.95  # share of photo resamples in which a chosen setting must reach the aim
RESAMPLES = 1000
LEAST_USEFUL_RECALL = 0.05  # below it a threshold marks (almost) nothing, whatever its precision
# Proposals are traced above a threshold and kept where they reach a seed (hysteresis); the seed
# grid is coarser (every other value), which keeps a calibration run to minutes.
PAIRS = tuple((t, s) for t in GRID for s in sorted(set(GRID[::2]) | {t}) if s >= t)
SPECK_CONTRASTS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)  # times the texture around it a speck must stand out
# Whole-photo damage joins channels, chosen in this order: scratches and tears, then cracks (jagged
# 1-2 px lines that look most like hair and twigs) with a bar of their own.
DAMAGE_CHANNELS = (("scratch", "torn"), ("crack",))


@dataclass
class ProposalCase:
    """One photo as a whole-photo search sees it: the kind rendered on it ("clean": none), its index
    among the photos, the network's outputs on the working copy (``kinds``), the speck difference
    of that copy (for dust), the damage's Mask and that Mask grown by the scoring tolerance."""

    kind: str
    photo: int
    probability: np.ndarray
    kinds: tuple[str, ...]
    difference: np.ndarray | None
    truth: np.ndarray
    near_truth: np.ndarray

    @classmethod
    def of(cls, kind: str, photo: int, probability: np.ndarray, network_kinds: tuple[str, ...], kinds: tuple[str, ...],
           truth: np.ndarray, difference: np.ndarray | None = None) -> ProposalCase:
        kept = probability[[network_kinds.index(k) for k in kinds]].astype(np.float16)
        return cls(kind, photo, kept, tuple(kinds), difference, truth, grow(truth, TOLERANCE))

    def outputs(self, kinds: tuple[str, ...]) -> np.ndarray:
        return self.probability[[self.kinds.index(kind) for kind in kinds]].max(axis=0).astype(np.float32)

    def counts(self, marks: np.ndarray) -> Counts:
        """The score of working-copy ``marks``, at the photo's size and with the proposals' growth."""
        return pixel_counts(grown(mask_to_size(marks, self.truth.shape), 1), self.truth, near_truth=self.near_truth)


class Totals:
    """{setting: {kind: per-photo counts (photos, 4)}}: correct marks, marks, damage found, damage."""

    def __init__(self, photos: int):
        self.photos = photos
        self.table: dict = {}

    def add(self, setting, case: ProposalCase, counts: Counts) -> None:
        per_photo = self.table.setdefault(setting, {}).setdefault(case.kind, np.zeros((self.photos, 4), np.int64))
        per_photo[case.photo] += (counts.correct_marks, counts.marks, counts.found_truth, counts.truth)

    def judged(self, setting, kind: str) -> np.ndarray:
        """One kind's per-photo counts plus the marks made on the undamaged photos (all of them false)."""
        by_kind = self.table[setting]
        empty = np.zeros((self.photos, 4), np.int64)
        return by_kind.get(kind, empty) + by_kind.get("clean", empty)

    def pooled(self) -> dict:
        """{(kind, setting): Counts} over all photos, for the table."""
        return {(kind, setting): pooled(per_photo) for setting, by_kind in self.table.items()
                for kind, per_photo in by_kind.items()}


def pooled(per_photo: np.ndarray) -> Counts:
    return Counts(*(int(v) for v in per_photo.sum(axis=0)))


def precision_bound(per_photo: np.ndarray) -> float:
    """The precision reached in ``CONFIDENCE`` of bootstrap resamples of the photos."""
    sums = _resample_weights(len(per_photo)) @ per_photo[:, :2].astype(np.float64)
    precision = np.where(sums[:, 1] > 0, sums[:, 0] / np.maximum(sums[:, 1], 1), 1.0)
    return float(np.quantile(precision, 1 - CONFIDENCE))


_WEIGHTS: dict[int, np.ndarray] = {}


def _resample_weights(photos: int) -> np.ndarray:
    """(RESAMPLES, photos): how often each photo is drawn in each resample (fixed seed: the choice is repeatable)."""
    if photos not in _WEIGHTS:
        draws = np.random.default_rng(0).integers(0, photos, (RESAMPLES, photos))
        _WEIGHTS[photos] = np.stack([np.bincount(row, minlength=photos) for row in draws]).astype(np.float64)
    return _WEIGHTS[photos]


def most_recall_at_aim(per_kind: dict, optional: bool = False):
    """The setting with the best mean recall among those where every kind's precision bound
    reaches ``PRECISION_AIM`` (each kind is scored alone, as the benchmark does: a precise tear
    detector must not hide a careless crack detector); when none does, the one whose worst kind is
    most precise, or, when ``optional``, the setting None (leaving a channel out, never held to the
    least recall). ``per_kind``: {setting: [per-photo counts of each judged kind]}."""
    recall = {setting: [pooled(c).recall for c in counts] for setting, counts in per_kind.items()}
    useful = [setting for setting in per_kind if setting is None or min(recall[setting]) >= LEAST_USEFUL_RECALL]
    useful = useful or list(per_kind)
    bound = {setting: min(precision_bound(c) for c in per_kind[setting]) for setting in useful}
    good = [setting for setting in useful if bound[setting] >= PRECISION_AIM]
    if good:
        return max(good, key=lambda setting: np.mean(recall[setting]))
    if optional:
        return None
    return max(useful, key=bound.get)


def summary(per_photo: np.ndarray) -> dict:
    counts = pooled(per_photo)
    return {"precision": round(counts.precision, 3), "recall": round(counts.recall, 3),
            "precision_bound": round(precision_bound(per_photo), 3)}


def choose_dust(cases: list[ProposalCase], photos: int) -> tuple[tuple[float, float, float], dict, Totals]:
    """((threshold, seed, speck contrast), what they reach for dust, every setting's totals)."""
    totals = Totals(photos)
    for case in cases:
        if case.kind not in ("dust", "clean"):
            continue
        dust = case.outputs(("dust",))
        for threshold in GRID:
            parts = speck_parts(dust, threshold, case.difference)
            for _, seed in (pair for pair in PAIRS if pair[0] == threshold):
                for contrast in SPECK_CONTRASTS:
                    totals.add((threshold, seed, contrast), case, case.counts(parts.marks(seed, contrast)))
    pick = most_recall_at_aim({setting: [totals.judged(setting, "dust")] for setting in totals.table})
    return pick, {"dust": summary(totals.judged(pick, "dust"))}, totals


def choose_damage(cases: list[ProposalCase], photos: int) -> tuple[list[dict], dict, list[Totals]]:
    """(the damage channels, {line kind: what they reach}, each channel's totals).

    Each channel of ``DAMAGE_CHANNELS`` in turn gets the (threshold, seed) pair that, joined to the
    channels already chosen, gives the best mean recall over the line kinds with every one of them
    at the aim (marks on the undamaged photos counted as false); a channel after the first may also
    be left out, which it is unless some pair adds recall there."""
    cases = [case for case in cases if case.kind in LINE_KINDS + ("clean",)]
    chosen: list[dict] = []
    before = [np.zeros(case.probability.shape[1:], bool) for case in cases]
    every: list[Totals] = []
    final = None
    for outputs in DAMAGE_CHANNELS:
        totals = _channel_totals(cases, before, outputs, photos, optional=bool(chosen))
        every.append(totals)
        pick = most_recall_at_aim({setting: [totals.judged(setting, kind) for kind in LINE_KINDS]
                                   for setting in totals.table}, optional=bool(chosen))
        final = (totals, pick)
        if pick is None:
            continue
        chosen.append({"outputs": list(outputs), "threshold": pick[0], "seed": pick[1]})
        before = [marks | long_parts(case.outputs(outputs), *pick) for marks, case in zip(before, cases, strict=True)]
    totals, pick = final
    return chosen, {kind: summary(totals.judged(pick, kind)) for kind in LINE_KINDS}, every


def _channel_totals(cases: list[ProposalCase], before: list[np.ndarray], outputs: tuple[str, ...], photos: int,
                    optional: bool) -> Totals:
    """Totals of ``outputs`` at every (threshold, seed), and at None (the channel left out) when
    ``optional``, joined to the marks ``before`` (one array per case)."""
    totals = Totals(photos)
    for case, marks in zip(cases, before, strict=True):
        probability = case.outputs(outputs)
        for setting in PAIRS + ((None,) if optional else ()):
            joined = marks if setting is None else marks | long_parts(probability, *setting)
            totals.add(setting, case, case.counts(joined))
    return totals
