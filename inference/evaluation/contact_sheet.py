"""A side-by-side contact sheet: original, masked input, then one column per Engine's Result.

Drawn with Pillow only. Under each picture: its label, the Engine's run time, and (with ground
truth) PSNR / SSIM / L1 over the whole Image and inside the Hole. A failed Engine gets a grey
panel with its error. Labels use DejaVu Sans when a system copy exists, else Pillow's own font.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from inference.evaluation.compare import Result
from inference.io.images import save_image
from inference.io.masks import hole_ratio

MAX_SIDE = 384  # longest side of a picture in the sheet; larger Images are scaled down
MIN_COLUMN_WIDTH = 220  # room for the score lines under small pictures
PADDING = 8
FONT_SIZE = 14
LINE_HEIGHT = FONT_SIZE + 5
BACKGROUND = (255, 255, 255)
TEXT = (20, 20, 20)
ERROR_TEXT = (170, 20, 20)
FAILED_PANEL = (200, 200, 200)
MAX_ERROR_LINES = 8
FONT_FOLDERS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
    "/Library/Fonts",
    os.path.expandvars(r"%WINDIR%\Fonts"),
)


@lru_cache(maxsize=4)
def label_font(size: int = FONT_SIZE, bold: bool = False) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """DejaVu Sans (Bold) at ``size`` px if installed, else Pillow's built-in font (scalable since 10.1)."""
    file_name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in FONT_FOLDERS:
        candidate = Path(folder) / file_name
        if candidate.is_file():
            try:
                return ImageFont.truetype(candidate, size)
            except OSError:
                continue
    try:
        return ImageFont.load_default(size)
    except TypeError:  # Pillow < 10.1: a fixed bitmap font
        return ImageFont.load_default()


def _fmt(value: float, digits: int) -> str:
    # Plain ASCII: Pillow's fallback font has no glyphs for symbols such as the infinity sign.
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "inf"
    return f"{value:.{digits}f}"


def score_lines(result: Result) -> list[str]:
    """The caption lines of one Result: time, then scores 'whole / hole' when it has them."""
    if not result.ok:
        return ["failed"]
    lines = [f"{result.seconds:.2f} s"]
    scores = result.scores
    if scores is not None:
        lines += [
            "whole / hole:",
            f"PSNR {_fmt(scores.psnr, 2)} / {_fmt(scores.psnr_hole, 2)} dB",
            f"SSIM {_fmt(scores.ssim, 3)} / {_fmt(scores.ssim_hole, 3)}",
            f"L1 {_fmt(scores.l1, 4)} / {_fmt(scores.l1_hole, 4)}",
        ]
    return lines


def _thumbnail(pixels: np.ndarray, max_side: int) -> Image.Image:
    picture = Image.fromarray(pixels, "RGB")
    scale = min(1.0, max_side / max(picture.size))
    if scale < 1.0:
        size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
        picture = picture.resize(size, Image.Resampling.LANCZOS)
    return picture


def wrap_text(text: str, width: int, font) -> list[str]:
    """Greedy word wrap measured with ``font``, so any font (even the bitmap fallback) fits ``width``."""
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


class _Column:
    """One picture (or a failure panel) with its caption lines; error text is wrapped to the column."""

    def __init__(self, title: str, lines: list[str], picture: Image.Image | None, error: str | None = None):
        self.title = title
        self.lines = lines
        self.picture = picture
        self.error_lines: list[str] = []
        self.error = error

    def wrap_error(self, width: int, font) -> None:
        if self.error:
            self.error_lines = wrap_text(self.error, width, font)[:MAX_ERROR_LINES]

    @property
    def line_count(self) -> int:
        return 1 + len(self.lines) + len(self.error_lines)


def _columns(original: np.ndarray, masked: np.ndarray, mask: np.ndarray, results: Sequence[Result],
             original_title: str, max_side: int) -> list[_Column]:
    columns = [
        _Column(original_title, [f"{original.shape[1]} x {original.shape[0]} px"], _thumbnail(original, max_side)),
        _Column("Masked input", [f"hole {hole_ratio(mask) * 100:.1f} %"], _thumbnail(masked, max_side)),
    ]
    for result in results:
        picture = _thumbnail(result.image, max_side) if result.image is not None else None
        columns.append(_Column(result.label, score_lines(result), picture, result.error))
    return columns


def _draw_column(sheet: Image.Image, draw: ImageDraw.ImageDraw, column: _Column, left: int, width: int,
                 picture_size: tuple[int, int], font, title_font) -> None:
    top = PADDING
    if column.picture is not None:
        sheet.paste(column.picture, (left + (width - column.picture.width) // 2, top))
    else:
        draw.rectangle([left, top, left + width - 1, top + picture_size[1] - 1], fill=FAILED_PANEL)
    y = top + picture_size[1] + PADDING
    draw.text((left, y), column.title, fill=TEXT, font=title_font)
    for line in column.lines:
        y += LINE_HEIGHT
        draw.text((left, y), line, fill=TEXT, font=font)
    for line in column.error_lines:
        y += LINE_HEIGHT
        draw.text((left, y), line, fill=ERROR_TEXT, font=font)


def contact_sheet(
    original: np.ndarray,
    masked: np.ndarray,
    mask: np.ndarray,
    results: Sequence[Result],
    *,
    original_title: str = "Original",
    max_side: int = MAX_SIDE,
) -> np.ndarray:
    """The sheet as an RGB uint8 array: original, masked input, then one column per Result."""
    font = label_font()
    columns = _columns(original, masked, mask, results, original_title, max_side)
    picture_size = columns[0].picture.size
    width = max(picture_size[0], MIN_COLUMN_WIDTH)
    for column in columns:
        column.wrap_error(width, font)
    caption_height = max(column.line_count for column in columns) * LINE_HEIGHT
    height = PADDING + picture_size[1] + PADDING + caption_height + PADDING
    sheet = Image.new("RGB", (PADDING + len(columns) * (width + PADDING), height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for index, column in enumerate(columns):
        left = PADDING + index * (width + PADDING)
        _draw_column(sheet, draw, column, left, width, picture_size, font, label_font(bold=True))
    return np.asarray(sheet).copy()


def save_contact_sheet(path: str | os.PathLike, original: np.ndarray, masked: np.ndarray, mask: np.ndarray,
                       results: Sequence[Result], **options) -> None:
    """Draw the sheet (see :func:`contact_sheet`) and write it as PNG, atomically."""
    save_image(path, contact_sheet(original, masked, mask, results, **options))
