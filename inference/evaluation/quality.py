"""The quality bench: every Engine variant on every (Image, Mask) case, scored, summarised per category.

Qt-free core of ``python main.py bench quality``; inputs and pairing come from
:mod:`inference.evaluation.quality_data`, running and scoring from :mod:`inference.evaluation.compare` (the Hole is
blanked, then each Result is scored against the intact Image with :mod:`inference.evaluation.metrics`).

Engine variants: an Engine that does not take a Guide runs once. A guided Engine
(``EngineSpec.accepts_guide``) runs twice, "<label> (no guide)" with an all-zero Guide and
"<label> (HED guide)" with the true edges: HED (:mod:`inference.edges`) on the intact Image,
binarised and kept inside the Hole only - the best Guide a user could draw. Engines that cannot
run here (no weights) and the HED variant without HED weights are left out with a note.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from inference.engines.registry import get_spec
from inference.evaluation.compare import (
    ALL_BUCKETS,
    RECORD_COLUMNS,
    SUMMARY_COLUMNS,
    EngineCache,
    Record,
    Result,
    SummaryRow,
    record_cells,
    record_of,
    run_engines,
    summarize,
    summary_cells,
    write_csv,
)
from inference.evaluation.quality_data import Case, load_square_image, load_square_mask
from inference.evaluation.quality_sheet import WorstCase, save_worst_sheet
from inference.io.images import ImageError
from inference.io.masks import MaskError, hole_ratio

GUIDE_NONE = "none"  # the Engine takes no Guide
GUIDE_EMPTY = "empty"  # guided Engine, all-zero Guide
GUIDE_HED = "hed"  # guided Engine, HED edges of the intact Image inside the Hole
ALL_CATEGORIES = "all"
DEFAULT_WORST = 6

QUALITY_RECORD_COLUMNS = ("category", "image", "mask", *RECORD_COLUMNS[1:])
QUALITY_SUMMARY_COLUMNS = ("category", *SUMMARY_COLUMNS)


def hed_status() -> tuple[bool, str]:
    """Whether HED can run here (and why not); a seam the tests replace."""
    from inference.edges import hed_available

    return hed_available()


def hed_edge_map(image: np.ndarray) -> np.ndarray:
    """HED's edge probability of an intact Image, float32 (H, W) in [0, 1]; a seam the tests replace."""
    from inference.edges import detect_edges

    return detect_edges(image)


def hed_guide(edge_map: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The Guide a guided Engine gets: the edge map binarised, inside the Hole only (uint8 0/255)."""
    from inference.edges import edges_for_guide

    return edges_for_guide(edge_map, hole=mask)


@dataclass(frozen=True)
class Variant:
    """One way of running one Engine: its name in the tables, its registry name and its Guide."""

    id: str
    engine: str
    label: str
    guide: str = GUIDE_NONE


def plan_variants(engine_names: Sequence[str]) -> tuple[list[Variant], list[str]]:
    """The variants to run for ``engine_names`` (registry names, in order), and notes on what was
    left out: Engines unavailable here, and the HED variants when HED has no weights."""
    variants: list[Variant] = []
    notes: list[str] = []
    hed_ok: bool | None = None
    for name in engine_names:
        spec = get_spec(name)
        state = spec.check()
        if not state.available:
            notes.append(f"{spec.label} ({name}) skipped: {state.reason}")
            continue
        if not spec.accepts_guide:
            variants.append(Variant(name, name, spec.label))
            continue
        variants.append(Variant(f"{name}_no_guide", name, f"{spec.label} (no guide)", GUIDE_EMPTY))
        if hed_ok is None:
            hed_ok, why = hed_status()
            if not hed_ok:
                notes.append(f"HED guide variants skipped: {why}")
        if hed_ok:
            variants.append(Variant(f"{name}_hed_guide", name, f"{spec.label} (HED guide)", GUIDE_HED))
    return variants, notes


@dataclass(frozen=True)
class QualityRecord:
    """One row of records.csv: one variant on one case."""

    category: str
    mask: str  # '<set>/<stem>'
    record: Record


@dataclass
class BenchRun:
    """Everything one run produced: records, the worst cases per variant, and notes."""

    variants: list[Variant]
    size: int
    records: list[QualityRecord] = field(default_factory=list)
    worst: dict[str, list[WorstCase]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    skipped_cases: int = 0

    def keep_if_worst(self, variant: Variant, case: WorstCase, limit: int) -> None:
        """Keep ``case`` among the ``limit`` lowest hole PSNRs of ``variant`` (NaN and failures never)."""
        if limit < 1 or case.result.scores is None or math.isnan(case.psnr_hole):
            return
        kept = self.worst.setdefault(variant.id, [])
        kept.append(case)
        kept.sort(key=lambda item: item.psnr_hole)
        del kept[limit:]


class _CurrentImage:
    """The Image being scored and its HED edge map, loaded once for all of its masks and variants."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.path: Path | None = None
        self.pixels: np.ndarray | None = None
        self._edges: np.ndarray | None = None

    def load(self, path: Path) -> np.ndarray:
        if path != self.path:
            self.path, self.pixels, self._edges = None, None, None
            self.pixels = load_square_image(path, self.size)
            self.path = path
        return self.pixels

    def edges(self) -> np.ndarray:
        if self._edges is None:
            self._edges = hed_edge_map(self.pixels)
        return self._edges


def _guide_for(variant: Variant, image: _CurrentImage, mask: np.ndarray) -> np.ndarray | None:
    if variant.guide == GUIDE_NONE:
        return None
    if variant.guide == GUIDE_EMPTY:
        return np.zeros(mask.shape, np.uint8)
    return hed_guide(image.edges(), mask)


def _run_variant(variant: Variant, image: _CurrentImage, mask: np.ndarray, cache: EngineCache) -> Result:
    try:
        guide = _guide_for(variant, image, mask)
    except Exception as error:  # no HED here after all, or HED failed: this variant's failure only
        return Result(engine=variant.id, label=variant.label, error=f"guide: {type(error).__name__}: {error}")
    results = list(run_engines(image.pixels, mask, [variant.engine], guide, ground_truth=image.pixels,
                               cache=cache))
    return replace(results[0], engine=variant.id, label=variant.label)


def _load_case(case: Case, image: _CurrentImage, size: int) -> np.ndarray:
    """The case's Mask at ``size`` (its Image is loaded into ``image``); raises on unusable files."""
    image.load(case.image)
    mask = load_square_mask(case.mask, size)
    if not mask.any():
        raise MaskError(f"{case.mask} marks no hole at {size}×{size}")
    return mask


def run_benchmark(cases: Sequence[Case], variants: Sequence[Variant], size: int, *,
                  worst: int = DEFAULT_WORST, cache: EngineCache | None = None,
                  after_case: Callable[[], None] | None = None) -> BenchRun:
    """Score every variant on every case; a case whose files cannot be read is skipped with a note."""
    run = BenchRun(list(variants), size)
    cache = cache or EngineCache()
    image = _CurrentImage(size)
    for case in cases:
        try:
            mask = _load_case(case, image, size)
        except (ImageError, MaskError) as error:
            run.skipped_cases += 1
            run.notes.append(f"skipped {case.category}/{case.image.name} with {case.mask_name}: {error}")
            continue
        ratio = hole_ratio(mask)
        for variant in variants:
            result = _run_variant(variant, image, mask, cache)
            run.records.append(QualityRecord(case.category, case.mask_name,
                                             record_of(case.image_name, result, ratio)))
            run.keep_if_worst(variant, WorstCase(case.category, case.image_name, case.mask_name,
                                                 image.pixels, mask, result), worst)
        if after_case is not None:
            after_case()
    run.notes += [f"engine {name} failed to start: {reason}" for name, reason in cache.failures.items()]
    return run


# --- summaries and tables --------------------------------------------------------------------------


def category_summaries(records: Sequence[QualityRecord]) -> list[tuple[str, list[SummaryRow]]]:
    """(category, rows of :func:`inference.evaluation.compare.summarize`) per category in first-seen order,
    then 'all' over every category when there are several."""
    names = list(dict.fromkeys(record.category for record in records))
    summaries = [(name, summarize([r.record for r in records if r.category == name])) for name in names]
    if len(names) > 1:
        summaries.append((ALL_CATEGORIES, summarize([r.record for r in records])))
    return summaries


def quality_record_cells(item: QualityRecord) -> list[str]:
    image, *rest = record_cells(item.record)
    return [item.category, image, item.mask, *rest]


_TABLE_HEADER = ("engine", "cases", "failed", "PSNR hole (dB)", "SSIM hole", "L1 hole",
                 "PSNR (dB)", "SSIM", "L1", "s / fill")
_METRIC_ORDER = ("psnr_hole", "ssim_hole", "l1_hole", "psnr", "ssim", "l1")


def _table_cells(row: SummaryRow) -> list[str]:
    cells = dict(zip(SUMMARY_COLUMNS, summary_cells(row), strict=True))
    return [row.label, cells["images"], cells["failures"], *(cells[name] for name in _METRIC_ORDER),
            cells["seconds"]]


def _table(first_column: str, keyed_rows: Sequence[tuple[str, SummaryRow]]) -> list[str]:
    header = (first_column, *_TABLE_HEADER)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * 2 + "--:|" * (len(header) - 2)]
    lines += ["| " + " | ".join([key, *_table_cells(row)]) + " |" for key, row in keyed_rows]
    return lines


def _images_in(records: Sequence[QualityRecord], category: str) -> int:
    return len({r.record.image for r in records if category in (ALL_CATEGORIES, r.category)})


def summary_markdown(run: BenchRun, title: str, command: str | None = None) -> str:
    """summary.md: a headline table (all hole ratios), then one table per category by hole ratio."""
    summaries = category_summaries(run.records)
    lines = [f"# {title}", ""]
    if command:
        lines += [f"Command: `{command}`", ""]
    lines += ["## All hole ratios", ""]
    lines += _table("category", [(name, row) for name, rows in summaries for row in rows
                                 if row.bucket == ALL_BUCKETS])
    for name, rows in summaries:
        cases = sum(1 for r in run.records if name in (ALL_CATEGORIES, r.category)) // max(1, len(run.variants))
        lines += ["", f"## {name}: {_images_in(run.records, name)} images, {cases} cases, "
                  f"{run.size}×{run.size}", ""]
        lines += _table("hole ratio", [(row.bucket, row) for row in rows])
    lines += ["", "Means over the cases (Image × Mask) of each row; hole = inside the Hole only, the others over",
              "the whole Image (definitions in inference/evaluation/metrics.py); inf = identical pixels. s / fill: mean",
              "time of one fill, on a machine shared with other work (noisy)."]
    if run.notes:
        lines += ["", "Notes:", "", *(f"- {note}" for note in run.notes)]
    return "\n".join(lines) + "\n"


def sheet_file_name(variant_id: str) -> str:
    return f"worst_{variant_id}.png"


def write_outputs(run: BenchRun, folder: Path, title: str, command: str | None = None) -> list[Path]:
    """records.csv, summary.csv, summary.md and worst_<variant>.png in ``folder``; returns the paths."""

    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "records.csv", folder / "summary.csv", folder / "summary.md"]
    write_csv(written[0], QUALITY_RECORD_COLUMNS, (quality_record_cells(r) for r in run.records))
    write_csv(written[1], QUALITY_SUMMARY_COLUMNS, _summary_csv_rows(run.records))
    written[2].write_text(summary_markdown(run, title, command), encoding="utf-8")
    for variant in run.variants:
        cases = run.worst.get(variant.id)
        if cases:
            written.append(folder / sheet_file_name(variant.id))
            save_worst_sheet(written[-1], variant.label, cases)
    return written


def _summary_csv_rows(records: Sequence[QualityRecord]) -> Iterator[list[str]]:
    for name, rows in category_summaries(records):
        for row in rows:
            yield [name, *summary_cells(row)]
