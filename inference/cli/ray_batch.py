"""``fill DIR ... --ray [ADDRESS]`` and ``restore DIR ... --ray``: a folder's photos as Ray tasks,
on one machine or a cluster.

Each task runs the very per-file pipeline of the local run (:func:`inference.cli.fill._fill`: the
same checks, engine, mask matching and ``save_like``; :func:`inference.cli.restore.restore_file`)
on a few files, so outputs are byte-identical to a local run; failed files are reported the same
way and the summary line is the same. Ray is imported only here, only when ``--ray`` is given
(``pip install -e ".[scale]"``).

* Resources: ``--ray-cpus`` / ``--ray-gpus`` per task (fractions allowed, e.g. 0.25 GPU = 4 tasks
  per GPU); a worker builds its engine once and keeps it for every later task it runs.
* Retries: a task whose worker dies, or that raises something other than a bad-input error, runs
  again up to ``--ray-retries`` times; bad inputs (unreadable photo, missing mask) fail at once, like
  locally, since trying again cannot help.
* Files are read and written by the workers: on a cluster, the input and output folders must be on
  storage every node sees at the same path (NFS, a mounted bucket), and every node needs the project
  installed at the same path with its weights.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from inference.cli import fill
from inference.engines.contract import Engine
from inference.io.images import ImageError
from inference.io.masks import MaskError

_ENGINES: dict[tuple[str, int | None], Engine] = {}  # per worker process: built once, reused by its tasks


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--ray`` options of a folder command."""
    group = parser.add_argument_group("Ray (folders only; needs the scale extra)")
    group.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                       help="fill the folder as Ray tasks: on a local Ray started for this run, or on the "
                            "cluster at ADDRESS (e.g. auto, 10.0.0.5:6379, ray://head:10001)")
    group.add_argument("--ray-cpus", type=float, default=1.0, help="CPUs per task (default 1)")
    group.add_argument("--ray-gpus", type=float, default=0.0, help="GPUs per task, e.g. 0.25 (default 0)")
    group.add_argument("--ray-retries", type=int, default=3,
                       help="runs again of a task whose worker died or hit an unexpected error (default 3)")
    group.add_argument("--ray-files-per-task", type=int, default=4,
                       help="photos per task: more amortises Ray's per-task cost (default 4)")


@dataclass(frozen=True)
class FolderJob:
    """What every task needs to treat its files exactly as the local loop would."""

    command: str  # "fill" or "restore"
    engine: str
    radius: int | None
    output: Path
    mask: Path | None = None  # fill
    guide: Path | None = None  # fill
    overwrite: bool = False  # fill
    sensitivity: float = 0.0  # restore
    save_mask: bool = False  # restore


def fill_one(job: FolderJob, image_path: Path) -> str | None:
    """The local loop's body for one photo; returns None, or why the photo failed."""
    key = (job.engine, job.radius)
    if key not in _ENGINES:
        _ENGINES[key] = fill._build_engine(job.engine, job.radius)
    try:
        if job.command == "restore":
            from inference.cli.restore import restore_file

            restore_file(_ENGINES[key], image_path, job.output / image_path.name, job.sensitivity, job.save_mask)
            return None
        if not image_path.is_file():
            raise ImageError(fill._not_a_photo(image_path))
        task = fill.FillTask(image_path, fill._mask_for(image_path, job.mask), job.output / image_path.name)
        fill._fill(_ENGINES[key], task, job.guide, job.overwrite)
    except (ImageError, MaskError, ValueError) as error:
        return str(error)
    return None


def fill_files(job: FolderJob, paths: list[Path]) -> list[tuple[Path, str | None]]:
    """One Ray task: several photos, each (path, None or why it failed)."""
    return [(path, fill_one(job, path)) for path in paths]


def fill_folder_on_ray(args: argparse.Namespace, candidates: list[Path]) -> int:
    """Fill ``candidates`` (the local run's list) as Ray tasks; prints the local run's summary."""
    job = FolderJob("fill", args.engine, args.radius, args.output, args.mask, args.guide, args.overwrite)
    return _folder_on_ray(args, candidates, job, "images filled")


def restore_folder_on_ray(args: argparse.Namespace, photos: list[Path]) -> int:
    """``restore`` of ``photos`` (the local run's list) as Ray tasks; prints the local run's summary."""
    job = FolderJob("restore", args.engine, None, args.output, sensitivity=args.sensitivity,
                    save_mask=args.save_mask)
    return _folder_on_ray(args, photos, job, "photos restored")


def _folder_on_ray(args: argparse.Namespace, candidates: list[Path], job: FolderJob, done_words: str) -> int:
    try:
        import ray
    except ImportError:
        print('error: --ray needs Ray: pip install -e ".[scale]"', file=sys.stderr)
        return 2
    if args.ray_files_per_task < 1 or args.ray_cpus < 0 or args.ray_gpus < 0 or args.ray_retries < 0:
        print("error: --ray-files-per-task must be >= 1 and --ray-cpus/--ray-gpus/--ray-retries >= 0",
              file=sys.stderr)
        return 2
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=args.ray or None, log_to_driver=True)
    try:
        failures = _run_tasks(ray, job, candidates, args)
    finally:
        if started_here:
            ray.shutdown()
    for path, reason in sorted(failures):
        print(f"failed: {path}: {reason}", file=sys.stderr)
    done = len(candidates) - len(failures)
    print(f"{done} of {len(candidates)} {done_words} into {args.output}; {len(failures)} failed")
    return 1 if failures else 0


def _chunks(paths: list[Path], size: int) -> Iterator[list[Path]]:
    for start in range(0, len(paths), size):
        yield paths[start:start + size]


def _run_tasks(ray, job: FolderJob, candidates: list[Path], args: argparse.Namespace) -> list[tuple[Path, str]]:
    remote = ray.remote(fill_files).options(
        num_cpus=args.ray_cpus, num_gpus=args.ray_gpus, max_retries=args.ray_retries, retry_exceptions=True,
    )
    job_ref = ray.put(job)
    chunks = list(_chunks(candidates, args.ray_files_per_task))
    # A bounded window of tasks in flight keeps the driver's memory flat on folders of millions.
    window = max(8, 4 * int(ray.cluster_resources().get("CPU", 2)))
    pending: dict = {}
    failures: list[tuple[Path, str]] = []
    progress = _Progress(len(candidates))
    queue = iter(chunks)
    for chunk in queue:
        pending[remote.remote(job_ref, chunk)] = chunk
        if len(pending) >= window:
            break
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        chunk = pending.pop(ready[0])
        failures.extend(_collect(ray, ready[0], chunk))
        progress.advance(len(chunk))
        following = next(queue, None)
        if following is not None:
            pending[remote.remote(job_ref, following)] = following
    progress.close()
    return failures


def _collect(ray, ref, chunk: list[Path]) -> list[tuple[Path, str]]:
    """The chunk's failed files; every file of a task that failed after all its retries."""
    try:
        results = ray.get(ref)
    except Exception as error:  # noqa: BLE001 - a task that exhausted its retries fails its files, not the run
        reason = f"Ray task failed after its retries ({type(error).__name__}: {str(error).splitlines()[0][:200]})"
        return [(path, reason) for path in chunk]
    return [(path, reason) for path, reason in results if reason is not None]


class _Progress:
    """tqdm on a terminal; otherwise a line to stderr at every tenth of the folder."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.started = total, 0, time.monotonic()
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="image", file=sys.stderr)
        self.next_line = max(1, total // 10)

    def advance(self, count: int) -> None:
        self.done += count
        if self.bar is not None:
            self.bar.update(count)
        elif self.done >= self.next_line or self.done == self.total:
            rate = self.done / max(time.monotonic() - self.started, 1e-9)
            print(f"ray: {self.done} of {self.total} images ({rate:.1f}/s)", file=sys.stderr)
            self.next_line = self.done + max(1, self.total // 10)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
