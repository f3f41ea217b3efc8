"""Throughput of ``fill DIR`` locally and on a local Ray cluster (2 CPUs); writes its section of docs/benchmarks.md.

    .venv/bin/python benchmarks/ray_fill.py [--photos 200] [--repeats 3] [--files-per-task 4]

Both runs fill the same generated photos (320x240, one 60x40 hole each) with Telea, in one process,
alternating local and Ray repeats so that both see the same machine load; the outputs are checked
byte-identical. The Ray cluster is started once (its start-up is timed separately) and reused.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.report import cpu_name, load_average, write_section  # noqa: E402
from inference.cli import main as cli_main  # noqa: E402
from inference.io.images import save_image  # noqa: E402
from inference.io.masks import save_mask  # noqa: E402

SECTION = "## Batch fill on Ray"


def make_photos(folder: Path, count: int) -> tuple[Path, Path]:
    photos, masks = folder / "photos", folder / "masks"
    photos.mkdir(parents=True)
    masks.mkdir()
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 255, 320, dtype=np.float32)[None, :, None] * np.ones((240, 1, 3), np.float32)
    for index in range(count):
        pixels = np.clip(ramp + rng.normal(0, 25, ramp.shape), 0, 255).astype(np.uint8)
        save_image(photos / f"photo-{index:04d}.png", pixels)
        mask = np.zeros((240, 320), bool)
        top, left = rng.integers(20, 180), rng.integers(20, 240)
        mask[top:top + 40, left:left + 60] = True
        save_mask(masks / f"photo-{index:04d}.png", mask)
    return photos, masks


def timed_fill(photos: Path, masks: Path, out: Path, extra: list[str]) -> float:
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        status = cli_main(["fill", str(photos), "--mask", str(masks), "-o", str(out), *extra])
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"fill {' '.join(extra)} failed with status {status}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--files-per-task", type=int, default=4)
    options = parser.parse_args()
    import ray

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        photos, masks = make_photos(folder, options.photos)
        started = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        ray_start = time.perf_counter() - started
        ray_args = ["--ray", "--ray-files-per-task", str(options.files_per_task)]
        timed_fill(photos, masks, folder / "warm", ray_args)  # workers import the project once
        local, remote = [], []
        for repeat in range(options.repeats):
            local.append(timed_fill(photos, masks, folder / f"local-{repeat}", []))
            remote.append(timed_fill(photos, masks, folder / f"ray-{repeat}", ray_args))
        ray.shutdown()
        identical = all((folder / "ray-0" / p.name).read_bytes() == p.read_bytes()
                        for p in (folder / "local-0").iterdir())
    rows = [("local (one process)", statistics.median(local)), ("Ray, local cluster of 2 CPUs", statistics.median(remote))]
    lines = [
        SECTION, "",
        f"`{' '.join(['.venv/bin/python', 'benchmarks/ray_fill.py'] + sys.argv[1:])}` on {cpu_name()}, "
        f"{time.strftime('%Y-%m-%d')}, load average {load_average()} at the end; {options.photos} generated "
        f"320x240 PNG photos with a 60x40 hole, Telea, {options.files_per_task} photos per Ray task, median of "
        f"{options.repeats} runs alternating local and Ray. Outputs byte-identical: {'yes' if identical else 'NO'}.",
        "", "| run | seconds | photos/s |", "|---|---:|---:|",
        *[f"| {name} | {seconds:.2f} | {options.photos / seconds:.1f} |" for name, seconds in rows],
        "",
        f"Ray / local throughput: {rows[0][1] / rows[1][1]:.2f}x. Starting the local Ray cluster took "
        f"{ray_start:.1f} s, not included above (`--ray` without a running cluster pays it on every run), "
        "nor is Ray's first run, while its workers imported the project. Local fills use one process; Ray "
        "runs two tasks at a time on the two CPUs it was given, so the ratio depends on how many cores "
        "the rest of the machine leaves free (see the load average).",
    ]
    write_section(SECTION, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
