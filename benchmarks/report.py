"""Writing a benchmark's section of docs/benchmarks.md, shared by every script in benchmarks/."""

from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def write_section(section: str, text: str, doc: Path = DOC) -> None:
    """Replace the section headed ``section`` (e.g. "## HED") with ``text``, or append it; others stay."""
    document = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    text = text.rstrip("\n") + "\n\n"
    start = document.find(section + "\n")
    if start < 0:
        document = document.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n"
    else:
        end = document.find("\n## ", start + len(section))
        document = document[:start] + text + (document[end + 1:] if end >= 0 else "")
    doc.write_text(document, encoding="utf-8")


def cpu_name() -> str:
    """The processor's model name (from /proc/cpuinfo where there is one)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    """The 1-minute load average, formatted, so a reader can tell a quiet run from a busy one."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except (AttributeError, OSError):
        return "unknown"


def median_seconds(run, repeats: int) -> float:
    """Median wall time of ``repeats`` calls of ``run()``."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)
