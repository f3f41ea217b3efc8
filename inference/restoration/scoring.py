"""Scores of proposed damage against the exact Masks of synthetic damage.

Pixel scores allow ``tolerance`` px: a proposed pixel counts as correct when it lies within
``tolerance`` of a damaged one (every detector grows its marks by a pixel or two so that a fill
covers the halo, and that growth must not count as a false mark), while recall asks for the
damaged pixel itself to be covered (what is not covered is not repaired). Object scores count
connected parts: a damaged part is found when any proposal touches it, and a proposed part is
correct when it touches damage.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from inference.restoration.filters import grow

TOLERANCE = 2


@dataclass
class Counts:
    """Sums that add up over photos; precision and recall come from the totals."""

    correct_marks: int = 0
    marks: int = 0
    found_truth: int = 0
    truth: int = 0

    def __iadd__(self, other: Counts) -> Counts:
        self.correct_marks += other.correct_marks
        self.marks += other.marks
        self.found_truth += other.found_truth
        self.truth += other.truth
        return self

    @property
    def precision(self) -> float:
        return self.correct_marks / self.marks if self.marks else 1.0

    @property
    def recall(self) -> float:
        return self.found_truth / self.truth if self.truth else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def pixel_counts(proposed: np.ndarray, truth: np.ndarray, tolerance: int = TOLERANCE,
                 near_truth: np.ndarray | None = None) -> Counts:
    """``near_truth``: ``truth`` grown by ``tolerance``, when the caller keeps it for many proposals."""
    if near_truth is None:
        near_truth = grow(truth, tolerance)
    return Counts(int((proposed & near_truth).sum()), int(proposed.sum()),
                  int((truth & proposed).sum()), int(truth.sum()))


def object_counts(proposed: np.ndarray, truth: np.ndarray, tolerance: int = TOLERANCE) -> Counts:
    marks, mark_labels = cv2.connectedComponents(proposed.astype(np.uint8), connectivity=8)
    parts, part_labels = cv2.connectedComponents(truth.astype(np.uint8), connectivity=8)
    correct = np.unique(mark_labels[grow(truth, tolerance) & proposed])
    found = np.unique(part_labels[truth & grow(proposed, tolerance)])
    return Counts(int((correct > 0).sum()), marks - 1, int((found > 0).sum()), parts - 1)
