"""Edges drawn and suggested as thin lines, and never stale after a fill (issue 16, item 6)."""

from __future__ import annotations

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
