"""The quality bench's worst-case contact sheet: one row per case, worst hole PSNR first.

Each row is a :func:`inference.evaluation.contact_sheet.contact_sheet` (ground truth, masked input, the
variant's fill with its scores) under a line naming the case, so a reader sees where an Engine
fails and why the numbers are low. The sheet defines the data it draws (:class:`WorstCase`); the
bench fills it in, so the dependency points one way: quality → quality_sheet.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from inference.evaluation.compare import Result, damaged_input
from inference.evaluation.contact_sheet import (
    BACKGROUND,
    LINE_HEIGHT,
    PADDING,
    TEXT,
    contact_sheet,
    label_font,
    wrap_text,
)
from inference.io.images import save_image

SHEET_SIDE = 224  # pixels per picture: three columns stay readable and a six-row sheet stays small


@dataclass(frozen=True)
class WorstCase:
    """A poorly filled case, kept with its pixels for the worst-case contact sheet."""

    category: str
    image: str
    mask_name: str
    truth: np.ndarray
    mask: np.ndarray
    result: Result

    @property
    def psnr_hole(self) -> float:
        return self.result.scores.psnr_hole


def _case_line(rank: int, case: WorstCase) -> str:
    return f"#{rank}  {case.category}/{case.image}  mask {case.mask_name}  hole {case.mask.mean() * 100:.1f} %"


def _with_header(row: np.ndarray, text: str, bold: bool = False) -> np.ndarray:
    """``row`` under ``text``, word-wrapped to the row's width."""
    font = label_font(bold=bold)
    lines = wrap_text(text, row.shape[1] - 2 * PADDING, font)
    header_height = PADDING + len(lines) * LINE_HEIGHT
    canvas = Image.new("RGB", (row.shape[1], row.shape[0] + header_height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    for index, line in enumerate(lines):
        draw.text((PADDING, PADDING + index * LINE_HEIGHT), line, fill=TEXT, font=font)
    canvas.paste(Image.fromarray(row, "RGB"), (0, header_height))
    return np.asarray(canvas)


def worst_sheet(label: str, cases: Sequence[WorstCase], max_side: int = SHEET_SIDE) -> np.ndarray:
    """The sheet as RGB uint8: a title, then one captioned row per case in the given order."""
    if not cases:
        raise ValueError("a worst-case sheet needs at least one case")
    rows = []
    for rank, case in enumerate(cases, start=1):
        row = contact_sheet(case.truth, damaged_input(case.truth, case.mask), case.mask, [case.result],
                            original_title="Ground truth", max_side=max_side)
        rows.append(_with_header(row, _case_line(rank, case)))
    width = max(row.shape[1] for row in rows)
    rows = [np.pad(row, ((0, 0), (0, width - row.shape[1]), (0, 0)), constant_values=255) for row in rows]
    title = np.full((2, width, 3), 255, np.uint8)  # a thin spacer under the title line
    title = _with_header(title, f"{label}: the {len(cases)} cases with the lowest hole PSNR", bold=True)
    return np.concatenate([title, *rows], axis=0)


def save_worst_sheet(path: str | os.PathLike, label: str, cases: Sequence[WorstCase],
                     max_side: int = SHEET_SIDE) -> None:
    """Draw :func:`worst_sheet` and write it as PNG, atomically."""
    save_image(path, worst_sheet(label, cases, max_side))
