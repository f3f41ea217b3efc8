"""Run several Engines on the same Image, Mask and Guide, and score them: the compare pipeline.

Qt-free so that the compare view, ``python main.py compare`` and the quality bench share it.
Engines run one after another (they would only compete for the same cores or GPU), and each
:class:`Result` is yielded as soon as its Engine is done, so a UI can show it at once. A failing
Engine becomes a Result carrying the error; it never stops the others.

Ground truth: when the Image is intact and the Mask is simulated damage, the Hole pixels are
blanked before any Engine sees them (:func:`damaged_input`), and each Result is scored against the
intact Image with :mod:`inference.evaluation.metrics`.
"""

from __future__ import annotations

import csv
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from inference.engines.contract import CancelCheck, Cancelled, Engine
from inference.engines.registry import create_engine, get_spec
from inference.evaluation.metrics import METRIC_NAMES, Scores, format_score, score

EngineFactory = Callable[[str], Engine]
EngineProgress = Callable[[str, int, int], None]  # (engine name, done, total)
HOLE_FILL = (255, 255, 255)  # what the Hole shows in the masked input: white, as in the papers
BUCKET_EDGES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
OVER_LAST_BUCKET = ">60%"
BUCKETS = tuple(
    f"{round(low * 100)}-{round(high * 100)}%" for low, high in zip(BUCKET_EDGES[:-1], BUCKET_EDGES[1:], strict=True)
) + (OVER_LAST_BUCKET,)
ALL_BUCKETS = "all"


@dataclass
class Result:
    """What one Engine returned: the filled Image or the error, its run time, and scores."""

    engine: str  # registry name
    label: str  # human-readable name
    image: np.ndarray | None = None
    error: str | None = None
    seconds: float = 0.0  # time of ``inpaint`` alone
    load_seconds: float = 0.0  # time to build the Engine (weights) the first time it was needed
    scores: Scores | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def hole_ratio_bucket(ratio: float) -> str:
    """'0-10%', '10-20%', … '50-60%' (lower edge included) or '>60%'."""
    for index, high in enumerate(BUCKET_EDGES[1:]):
        if ratio < high:
            return BUCKETS[index]
    return OVER_LAST_BUCKET


def damaged_input(image: np.ndarray, mask: np.ndarray, fill: tuple[int, int, int] = HOLE_FILL) -> np.ndarray:
    """The Image with its Hole painted over, so nothing of the ground truth leaks into a fill."""
    damaged = image.copy()
    damaged[mask] = fill
    return damaged


def _label(name: str) -> str:
    try:
        return get_spec(name).label
    except KeyError:
        return name


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class EngineStartError(RuntimeError):
    """An Engine could not be built; the message is the original error on one line."""


@dataclass
class EngineCache:
    """Engines built once and reused across Images; a failure to build is remembered, not retried."""

    factory: EngineFactory = create_engine
    engines: dict[str, Engine] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    load_seconds: dict[str, float] = field(default_factory=dict)

    def get(self, name: str) -> Engine:
        """The Engine called ``name``; raises :class:`EngineStartError` (remembered) if it cannot be built."""
        if name in self.failures:
            raise EngineStartError(self.failures[name])
        if name not in self.engines:
            started = time.perf_counter()
            try:
                self.engines[name] = self.factory(name)
            except Exception as error:  # any build failure (no weights, bad file) becomes a Result
                self.failures[name] = _one_line(error)
                raise EngineStartError(self.failures[name]) from error
            self.load_seconds[name] = time.perf_counter() - started
        return self.engines[name]


def run_engines(
    image: np.ndarray,
    mask: np.ndarray,
    engines: Sequence[str],
    guide: np.ndarray | None = None,
    *,
    ground_truth: np.ndarray | None = None,
    should_cancel: CancelCheck | None = None,
    progress: EngineProgress | None = None,
    cache: EngineCache | None = None,
) -> Iterator[Result]:
    """Run ``engines`` (registry names) one after another on the same inputs, yielding each Result.

    ``ground_truth``: the intact Image (usually ``image`` itself); when given, the Hole of ``image``
    is blanked before the Engines run and every successful Result carries its
    :class:`~inference.evaluation.metrics.Scores` against ``ground_truth``.
    ``should_cancel`` is checked before each Engine and passed to it; once it returns True the
    iteration ends without a Result for the interrupted Engine. ``progress(engine, done, total)``
    relays each Engine's own progress reports. ``cache`` keeps built Engines
    across calls (pass the same one for every Image of a folder).
    """
    cache = cache or EngineCache()
    cancelled = should_cancel or (lambda: False)
    source = image if ground_truth is None else damaged_input(image, mask)
    for name in engines:
        if cancelled():
            return
        result = Result(engine=name, label=_label(name))
        try:
            engine = cache.get(name)
            result.load_seconds = cache.load_seconds.get(name, 0.0)
            started = time.perf_counter()
            relay = None if progress is None else partial(progress, name)
            result.image = engine.inpaint(source, mask, guide, should_cancel=cancelled, progress=relay)
            result.seconds = time.perf_counter() - started
        except Cancelled:
            return
        except EngineStartError as error:
            result.error = str(error)
        except Exception as error:  # one Engine's failure must not stop the others
            result.error = _one_line(error)
        if cancelled():
            return
        if ground_truth is not None and result.image is not None:
            result.scores = score(ground_truth, result.image, mask)
        yield result


# --- summaries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One row of a comparison: one Engine on one Image."""

    image: str
    engine: str
    label: str
    hole_ratio: float
    seconds: float | None
    error: str | None
    scores: Scores | None

    @property
    def bucket(self) -> str:
        return hole_ratio_bucket(self.hole_ratio)


@dataclass(frozen=True)
class SummaryRow:
    """Means of one Engine over the Images of one hole-ratio bucket (or over all of them)."""

    engine: str
    label: str
    bucket: str
    images: int  # Results that ran
    failures: int  # Results that carried an error
    seconds: float
    means: dict[str, float]  # metric name -> mean; empty without ground truth


def record_of(image_name: str, result: Result, hole_ratio: float) -> Record:
    seconds = result.seconds if result.ok else None
    return Record(image_name, result.engine, result.label, hole_ratio, seconds, result.error, result.scores)


def _mean(values: Iterable[float]) -> float:
    # NaN (empty Hole) is skipped; inf (a perfect fill) is a real value and makes the mean inf.
    kept = [value for value in values if not math.isnan(value)]
    return float(np.mean(kept)) if kept else math.nan


def _summary_row(engine: str, label: str, bucket: str, records: list[Record]) -> SummaryRow:
    succeeded = [record for record in records if record.error is None]
    scored = [record.scores for record in succeeded if record.scores is not None]
    means = {name: _mean(getattr(scores, name) for scores in scored) for name in METRIC_NAMES} if scored else {}
    seconds = _mean(record.seconds for record in succeeded if record.seconds is not None)
    return SummaryRow(engine, label, bucket, len(succeeded), len(records) - len(succeeded), seconds, means)


def summarize(records: Sequence[Record]) -> list[SummaryRow]:
    """One row per (bucket, Engine): buckets in order (empty ones left out), then 'all';
    Engines in first-seen order inside each bucket, so a bucket's rows compare the Engines."""
    engines: dict[str, str] = {}
    for record in records:
        engines.setdefault(record.engine, record.label)
    rows = []
    for bucket in (*BUCKETS, ALL_BUCKETS):
        for engine, label in engines.items():
            chosen = [r for r in records if r.engine == engine and bucket in (ALL_BUCKETS, r.bucket)]
            if chosen:
                rows.append(_summary_row(engine, label, bucket, chosen))
    return rows


# --- tables ---------------------------------------------------------------------------------------

RECORD_COLUMNS = ("image", "engine", "label", "hole_ratio", "bucket", "seconds", *METRIC_NAMES, "error")
SUMMARY_COLUMNS = ("bucket", "engine", "label", "images", "failures", "seconds", *METRIC_NAMES)
_DIGITS = {"psnr": 3, "psnr_hole": 3, "ssim": 4, "ssim_hole": 4, "l1": 5, "l1_hole": 5, "seconds": 3}


def record_cells(record: Record) -> list[str]:
    """CSV cells of one Record in :data:`RECORD_COLUMNS` order; scores are empty without ground truth."""
    scores = record.scores.as_dict() if record.scores is not None else {}
    return [
        record.image, record.engine, record.label, f"{record.hole_ratio:.4f}", record.bucket,
        format_score(record.seconds, _DIGITS["seconds"]),
        *(format_score(scores.get(name), _DIGITS[name]) for name in METRIC_NAMES),
        record.error or "",
    ]


def summary_cells(row: SummaryRow) -> list[str]:
    """CSV cells of one SummaryRow in :data:`SUMMARY_COLUMNS` order."""
    return [
        row.bucket, row.engine, row.label, str(row.images), str(row.failures),
        format_score(row.seconds, _DIGITS["seconds"]),
        *(format_score(row.means.get(name), _DIGITS[name]) for name in METRIC_NAMES),
    ]


def write_csv(path: str | os.PathLike, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)


def summary_markdown(rows: Sequence[SummaryRow], title: str = "Comparison summary") -> str:
    """The summary as a Markdown table (means per hole-ratio bucket and Engine)."""
    header = ("hole ratio", "engine", "images", "failed", "time (s)", "PSNR (dB)", "SSIM", "L1",
              "PSNR hole", "SSIM hole", "L1 hole")
    lines = [f"# {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = summary_cells(row)
        lines.append("| " + " | ".join([cells[0], row.label, *cells[3:]]) + " |")
    lines += ["", "Scores are means over the Images of each bucket: whole Image, then inside the Hole",
              "(definitions in inference/evaluation/metrics.py); empty without ground truth; inf = identical pixels."]
    return "\n".join(lines) + "\n"
