"""The editor with the real patch engine: default engine, Sampling-area tools, fill restricted to it."""

from __future__ import annotations

import numpy as np
import pytest

from app.document import LAYERS, Document
from tests.qt_fixtures import *  # noqa: F403
from tests.qt_fixtures import drag, make_photo

MAGENTA = np.array([255, 0, 255], np.uint8)


@pytest.fixture
def real_window(qtbot, isolated_settings, weights_dir, dialogs, monkeypatch):
    """A main window on the real engine registry and fresh settings, as on a fresh clone."""
    import app.controllers.edges
    from app.window.main_window import MainWindow

    monkeypatch.setattr(app.controllers.edges, "_check_hed", lambda _context: (False, "HED is off in this test"))
    main = MainWindow()
    qtbot.addWidget(main)
    main.show()
    qtbot.waitExposed(main)
    return main


def magenta_photo() -> np.ndarray:
    photo = make_photo(120, 160)
    photo[30:90, 100:130] = MAGENTA  # the easy source right beside the Hole
    return photo


def test_patch_is_the_default_engine_on_fresh_settings(real_window):
    assert real_window.fills.engine_name == "patch"
    assert real_window.engine_picker.current_name() == "patch"


def test_the_sampling_area_is_a_document_layer_saved_with_the_others():
    document = Document.from_pixels(make_photo(20, 30))
    assert "exclusion" in LAYERS
    assert document.layer("exclusion").shape == (20, 30) and document.sampling_area() is None
    document.exclusion[2:5, 3:9] = True
    area = document.fill_inputs().sampling
    assert area.dtype == np.bool_ and not area[3, 4] and area[10, 10]


def test_exclude_brush_is_one_undo_step_and_shown_as_an_overlay(real_window, tmp_path):
    from inference.io.images import save_image

    save_image(tmp_path / "photo.png", make_photo())
    assert real_window.files.open_path(tmp_path / "photo.png")
    document, stack = real_window.model.document, real_window.model.undo_stack
    real_window.select_tool("sampling_exclude")
    drag(real_window.canvas, [(20, 20), (60, 20), (60, 50)])
    assert document.exclusion.any() and stack.count() == 1
    assert real_window.canvas.layer("exclusion") is not None
    real_window.select_tool("sampling_include")
    drag(real_window.canvas, [(20, 20), (60, 20)])
    assert stack.count() == 2
    stack.undo()
    stack.undo()
    assert not document.exclusion.any()


def test_fill_copies_nothing_from_outside_the_sampling_area(real_window, tmp_path, qtbot):
    from inference.io.images import save_image

    save_image(tmp_path / "photo.png", magenta_photo())
    assert real_window.files.open_path(tmp_path / "photo.png")
    document = real_window.model.document
    real_window.select_tool("rectangle")
    drag(real_window.canvas, [(60, 30), (100, 90)])
    hole = document.mask.copy()
    real_window.select_tool("sampling_exclude")
    real_window.sizes.set("sampling", 30)
    drag(real_window.canvas, [(115, 20), (115, 100)])
    assert document.exclusion[30:90, 100:130].all()
    real_window.fills.fill()
    qtbot.waitUntil(lambda: not real_window.fills.busy, timeout=60000)
    filled = document.image[hole].astype(int)
    # No photo pixel lies within 40 levels of magenta, so any such pixel was copied from the block.
    assert (np.abs(make_photo(120, 160).astype(int) - MAGENTA.astype(int)).max(axis=-1) >= 40).all()
    assert not (np.abs(filled - MAGENTA.astype(int)).max(axis=-1) < 40).any()
    first = document.image.copy()
    real_window.fills.fill_again()  # another seed: another result
    qtbot.waitUntil(lambda: not real_window.fills.busy, timeout=60000)
    assert not np.array_equal(document.image[hole], first[hole])
