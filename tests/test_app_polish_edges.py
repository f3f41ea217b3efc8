"""Edges drawn and suggested as thin lines, and never stale after a fill (issue 16, item 6)."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from inference.edges import thin_edges


def soft_ridge(shape=(120, 200), strength=1.0, start=(10, 20), end=(190, 100), blur=3.0) -> np.ndarray:
    """A HED-like response: a line blurred into a ridge several pixels wide."""
    lines = np.zeros(shape, np.float32)
    cv2.line(lines, start, end, 1.0, 2)
    ridge = cv2.GaussianBlur(lines, (0, 0), blur)
    return ridge / ridge.max() * strength


def test_a_wide_ridge_becomes_a_one_pixel_line():
    ridge = soft_ridge()
    assert ((ridge > 0.3).sum(axis=0)[30:170] >= 5).all()  # the input is thick
    lines = thin_edges(ridge)
    per_column = lines.sum(axis=0)[30:170]
    assert (per_column >= 1).all(), "the line must not break"
    assert per_column.max() <= 2 and per_column.mean() < 1.3


def test_hysteresis_keeps_faint_continuations_and_drops_faint_lone_lines():
    edge_map = np.maximum(soft_ridge(start=(10, 20), end=(100, 20)),
                          soft_ridge(start=(100, 20), end=(190, 20), strength=0.45))  # faint, touching
    edge_map = np.maximum(edge_map, soft_ridge(start=(10, 90), end=(190, 90), strength=0.45))  # faint, alone
    lines = thin_edges(edge_map)
    assert lines[10:30, 150].any(), "the faint continuation of a strong line stays"
    assert not lines[80:100].any(), "a faint line touching no strong one goes"


def test_short_fragments_are_dropped():
    edge_map = soft_ridge(start=(50, 60), end=(56, 60), blur=1.5)  # a speck of texture, ~13 px of crest
    assert not thin_edges(edge_map, min_length=20).any()
    assert thin_edges(edge_map, min_length=5).any()
    assert thin_edges(soft_ridge()).sum() >= 150  # the default keeps a real outline


def test_thin_edges_refuses_what_is_not_an_edge_map():
    with pytest.raises(ValueError, match="2-D float edge map"):
        thin_edges(np.zeros((4, 4), np.uint8))


# --- the editor: the overlay after a fill ---------------------------------------------------------

from tests.qt_fixtures import *  # noqa: E402, F403
from tests.qt_fixtures import drag  # noqa: E402


@pytest.fixture
def edges_editor(window, photo_path, monkeypatch, qtbot):
    import app.controllers.edges
    import inference.edges.detect as hed

    calls = []

    def fake_edges(rgb, *args, **kwargs):
        calls.append(rgb.copy())
        time.sleep(0.3)  # long enough to see what the window shows meanwhile
        return soft_ridge(rgb.shape[:2], start=(10, 30), end=(150, 30))

    monkeypatch.setattr(app.controllers.edges, "_check_hed", lambda _context: (True, "fake HED"))
    monkeypatch.setattr(hed, "detect_edges", fake_edges)
    assert window.files.open_path(photo_path)
    window.edges.check_availability()
    qtbot.waitUntil(lambda: window.actions["show_edges"].isEnabled(), timeout=3000)
    window.edges_calls = calls
    return window


def test_the_overlay_is_thin_lines_not_halos(edges_editor, qtbot):
    edges_editor.actions["show_edges"].setChecked(True)
    qtbot.waitUntil(lambda: edges_editor.canvas.layer("edges") is not None, timeout=3000)
    overlay = edges_editor.canvas.layer("edges").pyramid.source
    drawn_rows = (overlay[:, 60:100] > 0).sum(axis=0)
    assert drawn_rows.max() <= 2 and drawn_rows.min() >= 1  # one line, one or two pixels thick


def test_a_fill_hides_the_old_edges_at_once_and_says_they_are_recomputed(edges_editor, qtbot):
    from tests.test_app_fill import choose_engine

    window = edges_editor
    window.actions["show_edges"].setChecked(True)
    qtbot.waitUntil(lambda: window.canvas.layer("edges") is not None, timeout=3000)
    window.select_tool("rectangle")
    drag(window.canvas, [(20, 20), (60, 40)])  # over the edge (row ~30)
    choose_engine(window, "flat")
    window.actions["fill"].trigger()
    qtbot.waitUntil(lambda: not window.fills.busy, timeout=5000)
    assert window.canvas.layer("edges") is None, "the removed object's outline must not stay drawn"
    qtbot.waitUntil(lambda: "Detecting edges" in window.status_panel.message.text(), timeout=1000)
    assert window.status_panel.message.text().startswith("Filled with Flat colour")  # added to, not replaced
    started = time.monotonic()
    qtbot.waitUntil(lambda: window.canvas.layer("edges") is not None, timeout=5000)
    assert time.monotonic() - started < 5
    assert len(window.edges_calls) == 2 and (window.edges_calls[1][25:35, 25:55] == (10, 200, 30)).all()


def test_suggested_stubs_leave_out_specks():
    from app.controllers.edges import suggested_lines

    hole = np.zeros((120, 160), bool)
    hole[40:80, 60:100] = True
    lines = np.zeros_like(hole)
    lines[60, 10:150] = True  # an outline crossing the Hole
    lines[30:32, 70] = True  # a speck of texture in the band above it
    stubs = suggested_lines(hole, lines)
    assert stubs[59:62, 40:60].all() and stubs[59:62, 100:120].all()
    assert not stubs[25:36, 65:75].any()
    assert not stubs[hole].any()
