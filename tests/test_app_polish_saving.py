"""Saving at the source's JPEG quality, Import Mask adding to the Hole, CLI wording (issue 16, items 10 and 11)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from app.history import commands
from inference.io.images import open_image
from inference.io.jpeg_quality import jpeg_quality
from inference.io.masks import save_mask
from tests.qt_fixtures import *  # noqa: F403
from tests.qt_fixtures import make_photo


def jpeg(path, quality, subsampling=2):
    Image.fromarray(make_photo(120, 160)).save(path, "JPEG", quality=quality, subsampling=subsampling)
    return path


def test_a_q90_photo_is_saved_at_q90_with_its_subsampling(tmp_path):
    source = open_image(jpeg(tmp_path / "q90.jpg", 90))
    assert source.jpeg_quality == 90 and source.jpeg_subsampling == 2
    from inference.io.images import save_like

    save_like(tmp_path / "out.jpg", source.pixels, source)
    written = Image.open(tmp_path / "out.jpg")
    assert jpeg_quality(written) == 90
    save_like(tmp_path / "q70.jpg", source.pixels, source, quality=70)
    assert jpeg_quality(Image.open(tmp_path / "q70.jpg")) == 70


def test_save_as_asks_the_quality_proposing_the_sources_and_ctrl_s_keeps_it(window, tmp_path, dialogs, monkeypatch):
    photo = jpeg(tmp_path / "holiday.jpg", 85)
    assert window.files.open_path(photo)
    target = tmp_path / "holiday_edit.jpg"
    monkeypatch.setattr("app.dialogs.questions.ask_save_path", lambda *_args: target)
    dialogs.quality_answer = 60
    assert window.files.save_as()
    assert dialogs.quality_prompts == [("holiday_edit.jpg", 85, "the photo was saved at quality 85")]
    assert jpeg_quality(Image.open(target)) == 60
    mask = np.zeros(window.model.document.shape, bool)
    mask[10:20, 10:20] = True
    commands.push_layer_change(window.model, "Hole", "mask", mask)
    assert window.files.save()  # Ctrl+S: no question, the chosen quality again
    assert len(dialogs.quality_prompts) == 1 and jpeg_quality(Image.open(target)) == 60


def test_png_is_saved_without_a_quality_question_and_cancel_saves_nothing(window, photo_path, tmp_path, dialogs,
                                                                             monkeypatch):
    assert window.files.open_path(photo_path)
    monkeypatch.setattr("app.dialogs.questions.ask_save_path", lambda *_args: tmp_path / "x.png")
    assert window.files.save_as() and dialogs.quality_prompts == []
    monkeypatch.setattr("app.dialogs.questions.ask_save_path", lambda *_args: tmp_path / "x.jpg")
    dialogs.quality_answer = None
    assert not window.files.save_as() and not (tmp_path / "x.jpg").exists()
    assert dialogs.quality_prompts[0][1:] == (95, "the photo's own quality is unknown")


def test_the_cli_writes_the_sources_quality_or_the_one_asked_for(tmp_path):
    from inference.cli import main

    photo = jpeg(tmp_path / "street.jpg", 80)
    mask = np.zeros((120, 160), bool)
    mask[40:60, 50:90] = True
    save_mask(tmp_path / "street_mask.png", mask)
    assert main(["fill", str(photo), "--mask", str(tmp_path / "street_mask.png"), "-o", str(tmp_path / "a.jpg")]) == 0
    assert jpeg_quality(Image.open(tmp_path / "a.jpg")) == 80
    assert main(["fill", str(photo), "--mask", str(tmp_path / "street_mask.png"), "-o", str(tmp_path / "b.jpg"),
                 "--quality", "92"]) == 0
    assert jpeg_quality(Image.open(tmp_path / "b.jpg")) == 92
    with pytest.raises(SystemExit):
        main(["fill", str(photo), "--mask", str(tmp_path / "street_mask.png"), "--quality", "0"])


def test_a_batch_failure_names_the_file_once(tmp_path):
    from inference.cli.fill import failure_line
    from inference.io.images import ImageError

    path = tmp_path / "broken.jpg"
    assert failure_line(path, ImageError(f"{path} is truncated or corrupt (x).")) == \
        f"failed: {path} is truncated or corrupt (x)."
    assert failure_line(path, ValueError("the mask is empty")) == f"failed: {path}: the mask is empty"


def test_import_mask_can_add_to_the_hole(window, photo_path, tmp_path, dialogs):
    assert window.files.open_path(photo_path)
    first = np.zeros(window.model.document.shape, bool)
    first[10:30, 10:30] = True
    commands.push_layer_change(window.model, "Painted", "mask", first)
    second = np.zeros_like(first)
    second[60:80, 60:80] = True
    save_mask(tmp_path / "more.png", second)
    dialogs.mask_mode_answer = "add"
    assert window.files.import_mask_from(tmp_path / "more.png")
    assert dialogs.mask_mode_prompts == ["more.png"]
    np.testing.assert_array_equal(window.model.document.mask, first | second)
    window.model.undo_stack.undo()
    dialogs.mask_mode_answer = "replace"
    assert window.files.import_mask_from(tmp_path / "more.png")
    np.testing.assert_array_equal(window.model.document.mask, second)
    dialogs.mask_mode_answer = None  # cancelled: nothing changes
    count = window.model.undo_stack.count()
    assert not window.files.import_mask_from(tmp_path / "more.png")
    assert window.model.undo_stack.count() == count


def test_train_help_speaks_of_copying_not_of_machine_calls(capsys):
    from inference.cli import main

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    assert "GPU-machine" not in text and "call" not in text.split("travel", 1)[1].split("\n", 2)[0]


def test_the_compare_csv_names_the_photo_by_its_stem_like_the_cli(window, photo_path):
    from app.compare.run import CompareInputs

    assert window.files.open_path(photo_path)
    assert CompareInputs.from_document(window.model.document, False).name == "photo"


