"""inference.evaluation.compare: engines one after another, failures as Results, cancel, buckets, summaries."""

from __future__ import annotations

import math

import numpy as np
import pytest

from inference.engines import registry
from inference.engines.contract import Engine
from inference.evaluation.compare import (
    ALL_BUCKETS,
    BUCKETS,
    EngineCache,
    Record,
    Result,
    damaged_input,
    hole_ratio_bucket,
    run_engines,
    summarize,
    summary_markdown,
)
from inference.evaluation.contact_sheet import contact_sheet
from inference.evaluation.metrics import Scores

SEEN_INPUTS: list[np.ndarray] = []


class RecordingEngine(Engine):
    """Fills the Hole with mid-grey and remembers what it was given."""

    name = "recording"

    def _fill(self, image, mask, guide, should_cancel, progress):
        SEEN_INPUTS.append(image.copy())
        filled = image.copy()
        filled[mask] = 128
        return filled


class BrokenEngine(Engine):
    name = "broken"

    def _fill(self, image, mask, guide, should_cancel, progress):
        raise RuntimeError("exploded\non two lines")


def recording_engine() -> Engine:
    return RecordingEngine()


def broken_engine() -> Engine:
    return BrokenEngine()


def unbuildable_engine() -> Engine:
    raise OSError("weights file is corrupt")


@pytest.fixture
def fake_engines(monkeypatch):
    here = __name__
    extra = (
        registry.EngineSpec("recording", "Recording", False, f"{here}:recording_engine", registry._always),
        registry.EngineSpec("broken", "Broken", False, f"{here}:broken_engine", registry._always),
        registry.EngineSpec("unbuildable", "Unbuildable", False, f"{here}:unbuildable_engine", registry._always),
    )
    monkeypatch.setattr(registry, "ENGINES", registry.ENGINES + extra)
    SEEN_INPUTS.clear()


def _inputs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (32, 40, 3), dtype=np.uint8)
    mask = np.zeros((32, 40), bool)
    mask[8:20, 10:30] = True
    return image, mask


def test_a_failing_engine_does_not_stop_the_others(fake_engines):
    image, mask = _inputs()
    results = list(run_engines(image, mask, ["broken", "unbuildable", "telea", "recording"]))
    assert [r.engine for r in results] == ["broken", "unbuildable", "telea", "recording"]
    assert results[0].error == "RuntimeError: exploded on two lines"
    assert results[1].error == "OSError: weights file is corrupt"
    assert results[2].ok and results[2].image.shape == image.shape and results[2].seconds > 0
    assert results[3].ok and results[3].label == "Recording"
    assert all(r.scores is None for r in results)


def test_progress_is_relayed_with_the_engine_name(fake_engines):
    image, mask = _inputs()
    reports: list[tuple[str, int, int]] = []
    list(run_engines(image, mask, ["telea"], progress=lambda *report: reports.append(report)))
    assert reports and all(name == "telea" for name, _, _ in reports)
    assert reports[-1][1] == reports[-1][2]  # the last report says done


def test_ground_truth_blanks_the_hole_and_scores(fake_engines):
    image, mask = _inputs()
    [result] = run_engines(image, mask, ["recording"], ground_truth=image)
    assert np.all(SEEN_INPUTS[0][mask] == 255)
    assert np.array_equal(SEEN_INPUTS[0][~mask], image[~mask])
    assert isinstance(result.scores, Scores) and result.scores.psnr_hole < result.scores.psnr


def test_cancel_stops_before_the_next_engine(fake_engines):
    image, mask = _inputs()
    done: list[Result] = []
    for result in run_engines(image, mask, ["recording", "telea", "ns"], should_cancel=lambda: len(done) >= 1):
        done.append(result)
    assert [r.engine for r in done] == ["recording"]


def test_engine_cache_builds_once_and_remembers_failures(fake_engines):
    calls: list[str] = []

    def factory(name: str) -> Engine:
        calls.append(name)
        return registry.create_engine(name)

    cache = EngineCache(factory)
    image, mask = _inputs()
    for _ in range(2):
        results = list(run_engines(image, mask, ["recording", "unbuildable"], cache=cache))
        assert results[1].error == "OSError: weights file is corrupt"
    assert calls == ["recording", "unbuildable"]


def test_hole_ratio_buckets():
    assert BUCKETS == ("0-10%", "10-20%", "20-30%", "30-40%", "40-50%", "50-60%", ">60%")
    assert hole_ratio_bucket(0.0) == "0-10%"
    assert hole_ratio_bucket(0.0999) == "0-10%"
    assert hole_ratio_bucket(0.1) == "10-20%"
    assert hole_ratio_bucket(0.5999) == "50-60%"
    assert hole_ratio_bucket(0.6) == ">60%"


def _scores(psnr: float) -> Scores:
    return Scores(psnr, 0.9, 0.1, psnr - 5, 0.5, 0.2)


def test_summary_means_per_bucket_and_engine():
    records = [
        Record("a", "telea", "Telea", 0.05, 1.0, None, _scores(30.0)),
        Record("b", "telea", "Telea", 0.07, 3.0, None, _scores(20.0)),
        Record("c", "telea", "Telea", 0.35, 2.0, None, _scores(math.inf)),
        Record("a", "ns", "NS", 0.05, 1.0, None, _scores(10.0)),
        Record("b", "ns", "NS", 0.07, None, "Boom", None),
    ]
    rows = {(row.bucket, row.engine): row for row in summarize(records)}
    assert list(rows) == [("0-10%", "telea"), ("0-10%", "ns"), ("30-40%", "telea"), (ALL_BUCKETS, "telea"),
                          (ALL_BUCKETS, "ns")]
    low = rows[("0-10%", "telea")]
    assert low.images == 2 and low.failures == 0 and low.seconds == 2.0 and low.means["psnr"] == 25.0
    assert rows[("0-10%", "ns")].failures == 1 and rows[("0-10%", "ns")].means["psnr"] == 10.0
    assert rows[(ALL_BUCKETS, "telea")].means["psnr"] == math.inf
    assert "| 0-10% | Telea | 2 | 0 | 2.000 | 25.000 |" in summary_markdown(summarize(records))


def test_contact_sheet_has_a_column_per_result():
    image, mask = _inputs()
    results = [Result("telea", "Telea", image=image, seconds=0.1), Result("x", "X", error="Boom")]
    sheet = contact_sheet(image, damaged_input(image, mask), mask, results)
    wider = contact_sheet(image, damaged_input(image, mask), mask, results + results)
    assert sheet.dtype == np.uint8 and sheet.ndim == 3
    assert wider.shape[1] > sheet.shape[1]
