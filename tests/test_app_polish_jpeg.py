"""Saving a JPEG at the quality it came with (issue 16, item 10)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from inference.io.jpeg_quality import ijg_table, jpeg_quality, jpeg_subsampling, quality_from_table
from tests.qt_fixtures import make_photo


def encoded(quality: int, subsampling: int = 2) -> Image.Image:
    stream = io.BytesIO()
    Image.fromarray(make_photo(64, 64)).save(stream, "JPEG", quality=quality, subsampling=subsampling)
    stream.seek(0)
    return Image.open(stream)


@pytest.mark.parametrize("quality", [10, 50, 75, 85, 90, 95, 100])
def test_the_quality_a_jpeg_was_written_at_is_read_back(quality):
    image = encoded(quality)
    assert jpeg_quality(image) == quality
    assert jpeg_subsampling(image) == 2
    assert jpeg_subsampling(encoded(quality, 0)) == 0


def test_tables_no_quality_reproduces_give_none():
    assert quality_from_table(ijg_table(80)) == 80
    assert quality_from_table(np.full(64, 37)) is None
    assert quality_from_table([1, 2, 3]) is None
    assert jpeg_quality(Image.new("RGB", (4, 4))) is None
