"""Issue 15's fuzz corpus: every bad input ends with exit 0 or a one-line error, and loses nothing.

Over 300 seeded cases (zero-byte, truncated, random bytes behind magic, bombs, 16/32-bit and float,
CMYK/LAB/palette, 1×N, EXIF orientations and corrupt EXIF, animated and multi-page, odd names,
symlinks and FIFOs, all kinds of masks, malicious and broken weights, unwritable outputs) are made
in a temporary folder and run through ``fill``, ``compare`` and ``weights import``: most in two
driver processes that call the command line's main per case, a sample as real ``main.py``
subprocesses. For each: no traceback, no warning leaking to stderr, a failure is one line, no input
changed (hashed before and after), time and memory bounded.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.fuzz.corpus_images import Case, image_cases
from tests.fuzz.corpus_weights import weight_cases
from tests.fuzz.driver import fingerprint

SECONDS_PER_CASE = 30.0
PEAK_MEGABYTES = 2500.0
MEMORY_LIMIT_BYTES = 6 << 30  # address space of every process we start: a bomb fails, it cannot swap
FOLDER_LINE_STARTS = ("failed:", "skipped", "error:", "engine ", "warning:")
PWNED = Path("/tmp/fuzz_pwned")


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


def _environment(weights: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(weights.parent),
            "INPAINT_STUDIO_WEIGHTS": str(weights), "QT_QPA_PLATFORM": "offscreen",
            "PYTHONPATH": str(PROJECT_ROOT), "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "always"}


def problems_of(result: dict) -> list[str]:
    """What is wrong with one case's outcome (empty when it behaved)."""
    status, err = result["status"], result["stderr"]
    found = []
    if status == "crash" or "Traceback" in err or "Traceback" in result["stdout"]:
        found.append("traceback")
    if "Warning" in err:
        found.append("a warning leaked to stderr")
    if result["changed"]:
        found.append(f"inputs changed: {result['changed']}")
    if result["seconds"] > SECONDS_PER_CASE:
        found.append(f"took {result['seconds']:.1f} s")
    if status not in (0, "crash"):
        lines = [line for line in err.strip().splitlines() if line.strip()]
        if lines and lines[0].startswith("usage:"):
            lines = [line for line in lines if "error:" in line]  # argparse: usage, then one error line
        lines = [line for line in lines if not line.startswith(("warning:", "note:"))]
        if result["folder_mode"]:
            if not lines or not all(line.startswith(FOLDER_LINE_STARTS) for line in lines):
                found.append(f"folder run without one line per problem: {lines[:3]}")
        elif len(lines) != 1:
            found.append(f"{len(lines)} error lines: {lines[:3]}")
    return found


def _run_driver(cases: list[Case], folder: Path, label: str, weights: Path, timeout: float) -> list[dict]:
    cases_file, results_file = folder / f"{label}_cases.json", folder / f"{label}_results.json"
    cases_file.write_text(json.dumps([asdict(case) for case in cases]), encoding="utf-8")
    try:
        subprocess.run([sys.executable, "-m", "tests.fuzz.driver", str(cases_file), str(results_file)],
                       cwd=PROJECT_ROOT, env=_environment(weights), timeout=timeout, check=True,
                       capture_output=True, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        done = json.loads(results_file.read_text()) if results_file.exists() else []
        pytest.fail(f"{label} driver hung after {len(done)} cases; next: {cases[len(done)].name}")
    return json.loads(results_file.read_text(encoding="utf-8"))


def _run_subprocess(case: Case, weights: Path) -> dict:
    before = {path: fingerprint(path) for path in case.inputs}
    done = subprocess.run([sys.executable, str(PROJECT_ROOT / "main.py"), *case.argv], cwd=case.cwd,
                          env=_environment(weights), capture_output=True, text=True, timeout=60,
                          preexec_fn=_limit_memory)
    changed = [path for path, print_ in before.items() if fingerprint(path) != print_]
    return {"name": case.name, "status": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
            "seconds": 0.0, "changed": changed, "folder_mode": case.folder_mode}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    (root / "images").mkdir()
    (root / "weights_in").mkdir()
    (root / "weights").mkdir()
    PWNED.unlink(missing_ok=True)
    return root, image_cases(root / "images"), weight_cases(root / "weights_in")


def test_corpus_is_large_and_covers_every_command(corpus):
    _root, images, weights = corpus
    names = [case.name for case in images + weights]
    assert len(names) >= 300 and len(set(names)) == len(names)
    commands = {case.argv[0] for case in images + weights}
    assert commands == {"fill", "compare", "weights"}


def test_every_bad_input_ends_cleanly(corpus):
    root, images, weights = corpus
    results = _run_driver(images, root, "images", root / "weights", timeout=150)
    results += _run_driver(weights, root, "weights", root / "weights", timeout=90)
    assert len(results) == len(images) + len(weights)
    failures = {result["name"]: problems for result in results if (problems := problems_of(result))}
    assert not failures, json.dumps(failures, indent=1, ensure_ascii=False)[:6000]
    assert max(result["peak_mb"] for result in results) < PEAK_MEGABYTES
    assert not PWNED.exists(), "a pickle in the corpus ran code"
    # Sanity of the corpus itself: both outcomes occur, so the checks above are not vacuous.
    statuses = {result["status"] for result in results}
    assert 0 in statuses and (1 in statuses or 2 in statuses)


# A sample across the categories, run the way a user runs them.
SUBPROCESS_SAMPLE = ("fill/zero_png", "compare/cut_jpg_33", "fill/bomb_png_20000x20000", "fill/deep_rgb16.png",
                     "fill/exif_corrupt_3", "fill/link_loop_a.png", "fill/link_pipe.png", "fill-mask/mask_ones16",
                     "folder/fill", "folder/compare_into_inputs", "output/long", "output/guide",
                     "weights/text.pth", "weights/zip_bomb.pth", "weights/pickle_system.pth")


def test_a_sample_as_real_subprocesses(corpus):
    root, images, weights = corpus
    by_name = {case.name: case for case in images + weights}
    failures = {}
    for name in SUBPROCESS_SAMPLE:
        result = _run_subprocess(by_name[name], root / "weights")
        if problems := problems_of(result):
            failures[name] = problems + [result["stderr"][-400:]]
    assert not failures, json.dumps(failures, indent=1, ensure_ascii=False)
    assert not PWNED.exists()
