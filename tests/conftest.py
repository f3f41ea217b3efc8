"""Shared fixtures: real photos from ../shared (skipped when absent), and isolation of user state."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Editors started by tests (in this process or as subprocesses) autosave into, and offer recovery
# from, a private folder: never the user's, whose crashed sessions would open a modal dialog.
if "INPAINT_STUDIO_RECOVERY" not in os.environ:
    os.environ["INPAINT_STUDIO_RECOVERY"] = tempfile.mkdtemp(prefix="inpaint-test-recovery-")
    atexit.register(shutil.rmtree, os.environ["INPAINT_STUDIO_RECOVERY"], ignore_errors=True)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The ../shared/data folder; tests that use it skip with a reason when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent (real photos live there, outside the project)")
    return SHARED_DATA


@pytest.fixture
def weights_dir(tmp_path, monkeypatch) -> Path:
    """An empty, private weights folder so tests never see or touch the project's weights/."""
    folder = tmp_path / "weights"
    folder.mkdir()
    monkeypatch.setenv("INPAINT_STUDIO_WEIGHTS", str(folder))
    return folder


@pytest.fixture(scope="module")
def one_torch_thread():
    """Torch on one thread for a module: on two shared cores, two torch threads thrash each other (5-10x slower)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
