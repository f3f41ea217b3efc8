"""Sharded training packs (``prepare --shard-mib``): shards stay under their size, the trainer streams
photos from them on demand, and the batches equal those of the same photos in a folder pack."""

from __future__ import annotations

import json
import pickle
import tarfile

import numpy as np
import pytest

from inference.cli import main as cli_main
from inference.training import sampling
from inference.training.pack import prepare_pack
from inference.training.packfile import PackError
from inference.training.sampling import BatchMaker, BatchSpec, CategoryMix, CropSpec, PackData
from inference.training.shards import prepare_sharded_pack
from inference.training.synthetic import write_synthetic_photos

SHARD_MIB = 0.02  # ~20 KiB: a few synthetic photos per shard, so several shards


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return write_synthetic_photos(tmp_path_factory.mktemp("shards") / "source", count=8, seed=2)


@pytest.fixture(scope="module")
def packs(source, tmp_path_factory):
    folder = tmp_path_factory.mktemp("packs")
    prepare_pack(source / "photos", folder / "flat", edges_folder=source / "edges", log=lambda _line: None)
    prepare_sharded_pack(source / "photos", folder / "sharded", shard_mib=SHARD_MIB,
                         edges_folder=source / "edges", log=lambda _line: None)
    return folder / "flat", folder / "sharded"


def test_shards_are_plain_tars_under_the_limit_holding_every_photo(packs):
    _, sharded = packs
    manifest = json.loads((sharded / "pack.json").read_text())
    assert manifest["layout"] == "shards" and len(manifest["shards"]) > 1
    names = []
    for shard in manifest["shards"]:
        assert (sharded / shard).stat().st_size <= SHARD_MIB * 2**20
        with tarfile.open(sharded / shard) as archive:
            names += archive.getnames()
    assert sorted(names) == sorted([f"{p['name']}.jpg" for p in manifest["photos"]]
                                   + [f"{p['name']}.edges.png" for p in manifest["photos"]])


def test_streamed_photos_and_batches_equal_the_folder_packs(packs):
    flat, sharded = (PackData(folder, need_edges=True) for folder in packs)
    assert sharded.sharded and not hasattr(sharded, "_image_bytes")  # nothing read up front
    spec = BatchSpec(4, CropSpec(64), seed=3, shared_mask=True, guides=None)
    makers = [BatchMaker(data, spec, CategoryMix(data.categories)) for data in (flat, sharded)]
    for step in (0, 7):
        one, other = (maker.make(step) for maker in makers)
        assert all(np.array_equal(one[key], other[key]) for key in one)
    copy = pickle.loads(pickle.dumps(sharded))  # what a data-loading process receives
    assert np.array_equal(copy.photo(3)[0], flat.photo(3)[0])


def test_a_sharded_pack_keeps_only_a_bounded_number_of_decoded_photos(packs, monkeypatch):
    monkeypatch.setattr(sampling, "SHARD_DECODED_PHOTOS", 3)
    data = PackData(packs[1])
    for index in range(len(data)):
        data.photo(index)
    assert len(data._decoded) == 3 and set(data._decoded) == {5, 6, 7}


def test_a_photo_larger_than_a_shard_is_refused(source, tmp_path):
    with pytest.raises(PackError, match="more than one shard holds"):
        prepare_sharded_pack(source / "photos", tmp_path / "pack", shard_mib=0.004, log=lambda _line: None)
    assert not (tmp_path / "pack").exists() and not (tmp_path / "pack.building").exists()


def test_prepare_writes_shards_and_the_trainer_trains_on_them(source, tmp_path, capsys):
    pack, run = tmp_path / "pack", tmp_path / "run"
    assert cli_main(["prepare", str(source / "photos"), "-o", str(pack), "--edges-from", str(source / "edges"),
                     "--no-trunk", "--shard-mib", "0.05", "--max-side", "256", "--quality", "85"]) == 0
    assert "8 photos" in capsys.readouterr().out
    assert json.loads((pack / "pack.json").read_text())["max_side"] == 256
    assert cli_main(["train", "deepfill", "--pack", str(pack), "--out", str(run), "--smoke", "--steps", "1"]) == 0
    assert (run / "checkpoints" / "LATEST").is_file()
