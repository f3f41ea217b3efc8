"""Run fuzz cases through the command line's ``main`` in one process, one case after another.

``python -m tests.fuzz.driver CASES.json RESULTS.json``: for each case the exit status, stdout,
stderr (a crash's traceback lands there), seconds, peak memory so far and the inputs whose bytes
or kind changed. Starting Python, numpy and torch once instead of 300 times keeps the corpus
inside ``make test``; the test also runs a sample as real subprocesses.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import resource
import stat
import sys
import time
import traceback
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path


def fingerprint(path: str) -> str:
    """What is at ``path``, without ever opening a pipe or following a link loop."""
    try:
        info = os.lstat(path)
    except OSError as error:
        return f"missing:{error.errno}"
    if stat.S_ISLNK(info.st_mode):
        return f"link:{os.readlink(path)}"
    if not stat.S_ISREG(info.st_mode):
        return f"kind:{stat.S_IFMT(info.st_mode)}"
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return f"file:{digest.hexdigest()}"


def peak_megabytes() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case(case: dict, cli_main) -> dict:
    before = {path: fingerprint(path) for path in case["inputs"]}
    out, err = io.StringIO(), io.StringIO()
    os.chdir(case["cwd"])
    started = time.perf_counter()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            status = cli_main(list(case["argv"]))
    except SystemExit as exit_:  # argparse's usage errors
        status = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:  # noqa: BLE001 — a crash is what the fuzz test looks for
        status = "crash"
        err.write(traceback.format_exc())
    seconds = time.perf_counter() - started
    changed = [path for path, print_ in before.items() if fingerprint(path) != print_]
    return {"name": case["name"], "status": status, "stdout": out.getvalue()[-2000:],
            "stderr": err.getvalue()[-4000:], "seconds": seconds, "peak_mb": peak_megabytes(),
            "changed": changed, "folder_mode": case.get("folder_mode", False)}


def main(argv: list[str]) -> int:
    cases = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    warnings.simplefilter("always")  # a warning leaking to stderr must show in every case, not once
    from inference.cli import main as cli_main

    results = []
    for case in cases:
        results.append(run_case(case, cli_main))
        # Written after every case: if a case hangs and the test kills us, the others are known.
        Path(argv[1]).write_text(json.dumps(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
