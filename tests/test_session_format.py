"""The Qt-free session file (.inpaint) and recovery folder: lossless round trips, atomicity, refusals."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from inference.io.images import LoadedImage, open_image, save_image
from inference.io.recovery import (
    TILE,
    LayerSnapshot,
    RecoveryWriter,
    Snapshot,
    all_tile_keys,
    list_recoveries,
    read_recovery,
    remove_unreferenced,
    thumbnail_of,
    tile_keys,
    tile_slices,
)
from inference.io.session import (
    SessionError,
    read_manifest,
    read_session,
    session_path_for,
    sha256_of_file,
    write_session,
)


def _photo(height=300, width=420, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _layers(original: np.ndarray) -> dict[str, np.ndarray]:
    height, width = original.shape[:2]
    image = original.copy()
    image[40:90, 50:200] = (1, 2, 3)
    mask = np.zeros((height, width), bool)
    mask[100:140, 10:30] = True
    guide = np.zeros((height, width), np.uint8)
    guide[5, :] = 255
    guide[6, :] = 17
    # A layer this module has never heard of travels the same way (e.g. a sampling area).
    sampling = np.zeros((height, width), bool)
    sampling[200:, 300:] = True
    return {"image": image, "mask": mask, "guide": guide, "sampling": sampling}


def test_session_round_trip_is_bit_exact_with_metadata(tmp_path):
    pixels = _photo()
    alpha = np.full(pixels.shape[:2], 200, np.uint8)
    original = LoadedImage(pixels, tmp_path / "photo.png", "PNG", alpha, exif=b"Exif\x00\x00fake", icc_profile=b"icc!")
    layers = _layers(pixels)
    path = tmp_path / "photo.inpaint"
    write_session(path, original, layers, app_version="9.9", source_sha256="ab" * 32, save_path=tmp_path / "out.png")
    data = read_session(path)
    assert set(data.layers) == set(layers)
    for name, array in layers.items():
        assert data.layers[name].dtype == array.dtype and np.array_equal(data.layers[name], array), name
    assert np.array_equal(data.original.pixels, pixels) and np.array_equal(data.original.alpha, alpha)
    assert data.original.exif == original.exif and data.original.icc_profile == b"icc!"
    assert data.original.path == original.path and data.save_path == tmp_path / "out.png"
    manifest = read_manifest(path)
    assert manifest["source_sha256"] == "ab" * 32 and manifest["app_version"] == "9.9"
    assert manifest["format_version"] == 1
    with zipfile.ZipFile(path) as archive:
        assert {"manifest.json", "original.png", "layers/mask.png", "layers/sampling.png"} <= set(archive.namelist())


def test_session_refuses_foreign_damaged_and_newer_files(tmp_path):
    not_zip = tmp_path / "a.inpaint"
    not_zip.write_bytes(b"hello")
    with pytest.raises(SessionError, match="not a readable session"):
        read_session(not_zip)
    newer = tmp_path / "b.inpaint"
    with zipfile.ZipFile(newer, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"format": "inpaint-session", "format_version": 99,
                                                      "layers": {}, "original": {}}))
    with pytest.raises(SessionError, match="format version 99"):
        read_session(newer)
    pixels = _photo(40, 50)
    good = tmp_path / "c.inpaint"
    write_session(good, LoadedImage(pixels, tmp_path / "c.png", "PNG"), {"mask": np.zeros((40, 50), bool)},
                  app_version="1")
    damaged = tmp_path / "d.inpaint"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.namelist():
            data = source.read(item)
            target.writestr(item, data[:40] if item == "layers/mask.png" else data)
    with pytest.raises(SessionError, match="layer mask"):
        read_session(damaged)


def test_session_refuses_a_layer_png_cannot_hold(tmp_path):
    pixels = _photo(10, 10)
    with pytest.raises(SessionError, match="float32"):
        write_session(tmp_path / "x.inpaint", LoadedImage(pixels, tmp_path / "x.png", "PNG"),
                      {"depth": np.zeros((10, 10), np.float32)}, app_version="1")
    assert not (tmp_path / "x.inpaint").exists()


def test_session_path_and_hash(tmp_path):
    assert session_path_for(tmp_path / "holiday.jpg") == tmp_path / "holiday.inpaint"
    (tmp_path / "f").write_bytes(b"abc")
    assert sha256_of_file(tmp_path / "f") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_of_file(tmp_path / "missing") is None


# --- recovery folders ----------------------------------------------------------------------------


def _snapshot(original: LoadedImage, layers: dict[str, np.ndarray], keys_by_layer, summary="",
              thumbnail=True) -> Snapshot:
    snapshots = {}
    for name, array in layers.items():
        keys = keys_by_layer.get(name, [])
        snapshots[name] = LayerSnapshot(array.dtype.name, array.shape, "original" if name == "image" else "zeros",
                                        {key: array[tile_slices(key)].copy() for key in keys})
    return Snapshot(original, snapshots, "1.0", summary=summary,
                    thumbnail=thumbnail_of(layers["image"], layers.get("mask")) if thumbnail else None)


def test_recovery_round_trip_and_incremental_writes(tmp_path):
    pixels = _photo(1100, 1300, seed=3)
    source = tmp_path / "photo.png"
    save_image(source, pixels)
    original = open_image(source)
    layers = _layers(pixels)
    writer = RecoveryWriter(tmp_path / "recovery" / "one")
    every = {name: all_tile_keys(array.shape) for name, array in layers.items()}
    first = writer.write(_snapshot(original, layers, every, "Fill (Telea)"))
    data = read_recovery(writer.folder)
    for name, array in layers.items():
        assert np.array_equal(data.layers[name], array), name
    assert np.array_equal(data.original.pixels, pixels) and data.original.path == source
    # One small change: only its tile is written again.
    layers["mask"][TILE + 3, TILE + 4] = True
    second = writer.write(_snapshot(original, layers, {"mask": tile_keys(TILE + 3, TILE + 4, TILE + 4, TILE + 5)},
                                     thumbnail=False))
    assert second < 4000 < first
    assert np.array_equal(read_recovery(writer.folder).layers["mask"], layers["mask"])
    # Undoing back to the base removes the stored tile instead of storing zeros.
    layers["mask"][:] = False
    writer.write(_snapshot(original, layers, {"mask": all_tile_keys(layers["mask"].shape)}))
    assert not list((writer.folder / "mask").glob("*.png"))
    assert not read_recovery(writer.folder).layers["mask"].any()
    [info] = list_recoveries([writer.folder, tmp_path / "nothing"])
    assert info.photo_name == "photo.png" and info.thumbnail.is_file()


def test_recovery_original_without_a_source_file_is_stored_as_png(tmp_path):
    pixels = _photo(60, 70)
    original = LoadedImage(pixels, tmp_path / "untitled.png", "PNG")
    writer = RecoveryWriter(tmp_path / "r")
    layers = {"image": pixels.copy(), "mask": np.ones((60, 70), bool)}
    writer.write(_snapshot(original, layers, {"mask": all_tile_keys((60, 70))}))
    data = read_recovery(writer.folder)
    assert np.array_equal(data.original.pixels, pixels) and data.layers["mask"].all()


def test_recovery_survives_a_crash_between_tiles_and_manifest(tmp_path):
    pixels = _photo(80, 90)
    original = LoadedImage(pixels, tmp_path / "x.png", "PNG")
    writer = RecoveryWriter(tmp_path / "r")
    layers = {"image": pixels.copy(), "mask": np.zeros((80, 90), bool)}
    layers["mask"][:4] = True
    writer.write(_snapshot(original, layers, {"mask": [(0, 0)]}))
    # A tile written by an autosave that died before its manifest: ignored, then cleaned up.
    (writer.folder / "mask" / "r99_0_0.png").write_bytes(b"half a png")
    (writer.folder / ".manifest.json.abcd.tmp").write_bytes(b"{")
    assert np.array_equal(read_recovery(writer.folder).layers["mask"], layers["mask"])
    assert remove_unreferenced(writer.folder) == 2
    assert np.array_equal(read_recovery(writer.folder).layers["mask"], layers["mask"])


def test_recovery_refuses_a_changed_original(tmp_path):
    pixels = _photo(50, 50)
    source = tmp_path / "p.png"
    save_image(source, pixels)
    writer = RecoveryWriter(tmp_path / "r")
    writer.write(_snapshot(open_image(source), {"image": pixels.copy()}, {}))
    stored = next(writer.folder.glob("original.*"))
    with open(stored, "r+b") as stream:  # in-place change of the (linked) file
        stream.seek(60)
        stream.write(b"\x00\x01\x02")
    with pytest.raises(SessionError, match="changed since"):
        read_recovery(writer.folder)


def test_session_keeps_the_source_file_itself_when_it_still_matches(tmp_path):
    pixels = _photo(64, 80, seed=7)
    source = tmp_path / "photo.jpg"
    save_image(source, pixels, exif=None)
    original = open_image(source)
    path = tmp_path / "photo.inpaint"
    write_session(path, original, _layers(original.pixels), app_version="1")
    with zipfile.ZipFile(path) as archive:
        assert archive.read("original.jpg") == source.read_bytes()
    source.unlink()  # the session stands alone
    data = read_session(path)
    assert np.array_equal(data.original.pixels, original.pixels) and data.original.path == source
    assert data.original.format == "JPEG"
