"""Training packs: building from a folder of photos, the byte budget, grey photos, edges, licences."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from inference.cli import main as cli_main
from inference.training.pack import (
    TRUNK_NAME,
    PackError,
    find_source_photos,
    folder_bytes,
    prepare_pack,
    quantise_edges,
)
from inference.training.packfile import (
    PackPhoto,
    decode_edges,
    decode_photo,
    licence_summary,
    pack_fingerprint,
    read_manifest,
)
from inference.training.sampling import PackData
from inference.training.synthetic import write_synthetic_photos


def _quiet(_line: str) -> None:
    return None


@pytest.fixture
def source(tmp_path):
    return write_synthetic_photos(tmp_path / "source", count=6, seed=1)


def test_pack_holds_every_photo_with_its_facts_and_edges(source, tmp_path):
    summary = prepare_pack(source / "photos", tmp_path / "pack", edges_folder=source / "edges", log=_quiet)
    manifest = read_manifest(tmp_path / "pack")
    assert summary.photos == len(manifest["photos"]) == 6
    assert summary.categories == {"face": 2, "scene": 2, "old": 2}
    assert summary.total_bytes == folder_bytes(tmp_path / "pack")
    for entry in manifest["photos"]:
        photo = decode_photo((tmp_path / "pack" / entry["image"]).read_bytes())
        edges = decode_edges((tmp_path / "pack" / entry["edges"]).read_bytes())
        assert photo.shape == (entry["height"], entry["width"], 3)
        assert edges.shape == photo.shape[:2] and edges.max() == 255
        assert entry["licence"] == "CC0" and entry["category"] in ("face", "scene", "old")
    assert manifest["edges"] == "folder" and manifest["feature_trunk"] is None


def test_grey_photos_are_stored_as_one_channel_jpeg_and_read_back_as_rgb(source, tmp_path):
    prepare_pack(source / "photos", tmp_path / "pack", edges_folder=source / "edges", log=_quiet)
    entries = read_manifest(tmp_path / "pack")["photos"]
    grey = [e for e in entries if e["colour"] == "mono"]
    assert len(grey) == 2
    for entry in entries:
        raw = cv2.imdecode(np.frombuffer((tmp_path / "pack" / entry["image"]).read_bytes(), np.uint8),
                           cv2.IMREAD_UNCHANGED)
        assert (raw.ndim == 2) == (entry["colour"] == "mono")
    rgb = decode_photo((tmp_path / "pack" / grey[0]["image"]).read_bytes())
    assert rgb.ndim == 3 and np.array_equal(rgb[..., 0], rgb[..., 2])


def test_the_budget_downscales_every_photo_alike(source, tmp_path):
    ladder = ((1024, 95), (40, 50))
    budget_mib = (256 * 1024 + 12_000) / 2**20  # the manifest reserve plus 12 kB of photos and edges
    summary = prepare_pack(source / "photos", tmp_path / "pack", edges_folder=source / "edges",
                           budget_mib=budget_mib, ladder=ladder, log=_quiet)
    assert (summary.max_side, summary.quality) == (40, 50)
    for entry in read_manifest(tmp_path / "pack")["photos"]:
        assert max(entry["width"], entry["height"]) <= 40
    with pytest.raises(PackError, match="do not fit"):
        prepare_pack(source / "photos", tmp_path / "pack2", edges_folder=source / "edges",
                     budget_mib=0.25, ladder=ladder, log=_quiet)


def test_stored_edges_keep_sixteen_levels_and_drop_the_faint_background():
    edges = np.arange(256, dtype=np.uint8).reshape(16, 16)
    stored = quantise_edges(edges)
    assert set(np.unique(stored)) <= set(range(0, 256, 17))
    assert np.all(stored[edges < 51] == 0)
    assert np.abs(stored[edges >= 51].astype(int) - edges[edges >= 51]).max() <= 8


def test_pack_without_edges_serves_lbam_but_not_guided_training(source, tmp_path):
    prepare_pack(source / "photos", tmp_path / "pack", log=_quiet)
    assert read_manifest(tmp_path / "pack")["edges"] == "none"
    assert len(PackData(tmp_path / "pack")) == 6
    with pytest.raises(PackError, match="no edge maps"):
        PackData(tmp_path / "pack", need_edges=True)


def test_the_feature_trunk_travels_in_half_precision(source, tmp_path):
    trunk = tmp_path / "trunk.safetensors"
    save_file({"block1.conv1.weight": np.full((4, 3, 3, 3), 0.1, np.float32)}, str(trunk))
    prepare_pack(source / "photos", tmp_path / "pack", trunk=trunk, log=_quiet)
    stored = load_file(str(tmp_path / "pack" / TRUNK_NAME))
    assert stored["block1.conv1.weight"].dtype == np.float16
    assert read_manifest(tmp_path / "pack")["feature_trunk"] == TRUNK_NAME


def test_a_folder_that_is_not_a_pack_is_never_overwritten(source, tmp_path):
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "precious.txt").write_text("keep me")
    with pytest.raises(PackError, match="not a pack"):
        prepare_pack(source / "photos", occupied, log=_quiet)
    assert (occupied / "precious.txt").read_text() == "keep me"


def test_rebuilding_replaces_the_pack_and_changes_its_fingerprint(source, tmp_path):
    prepare_pack(source / "photos", tmp_path / "pack", log=_quiet)
    first = pack_fingerprint(tmp_path / "pack")
    prepare_pack(source / "photos", tmp_path / "pack", edges_folder=source / "edges", log=_quiet)
    assert pack_fingerprint(tmp_path / "pack") != first
    assert not (tmp_path / "pack.building").exists()


def test_folders_without_an_index_take_categories_from_subfolders(tmp_path):
    for category in ("faces", "streets"):
        (tmp_path / "photos" / category).mkdir(parents=True)
        cv2.imwrite(str(tmp_path / "photos" / category / "a.png"), np.full((20, 30, 3), 90, np.uint8))
    photos = find_source_photos(tmp_path / "photos")
    assert sorted(p.category for p in photos) == ["faces", "streets"]
    assert len({p.name for p in photos}) == 2  # same stem, made unique


def test_licence_summary_counts_restricted_and_unstated_terms():
    def photo(licence: str) -> PackPhoto:
        return PackPhoto("n", "i", None, 1, 1, "old", "mono", licence, "")

    summary = licence_summary([photo("CC BY-NC 4.0"), photo("S-Lab License 1.0"), photo("MIT"),
                               photo("MIT (repo LICENSE); images are historical photos, individual rights not stated"),
                               photo("MIT (CelebA-HQ images); research-only")])
    assert summary["photos"] == 5
    assert summary["non_commercial_or_research_only"] == 3
    assert summary["rights_not_stated"] == 1


def test_prepare_command_builds_a_pack(source, tmp_path, capsys):
    status = cli_main(["prepare", str(source / "photos"), "-o", str(tmp_path / "pack"),
                       "--edges-from", str(source / "edges"), "--no-trunk"])
    assert status == 0
    assert "6 photos" in capsys.readouterr().out
    assert json.loads((tmp_path / "pack" / "pack.json").read_text())["photos"][0]["edges"].endswith(".png")
