"""``fill DIR ... --ray [ADDRESS]`` and ``restore DIR ... --ray``: a folder's photos as Ray tasks,
on one machine or a cluster.

Each task runs the very per-file function of the local run (``fill_listed`` of
:mod:`inference.cli.fill`: the same checks, engine, mask matching and ``save_like``;
``restore_listed`` of :mod:`inference.cli.restore`) on a few files, handed over by the command as a
:class:`FolderWork`, so outputs are byte-identical to a local run; failed files are reported with
the command's own failure line and the summary line is the same. Ray is imported only here, only when ``--ray`` is given
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

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


def plain_failure_line(path: Path, error: BaseException) -> str:
    return f"failed: {path}: {error}"


@dataclass(frozen=True)
class FolderWork:
    """What a folder command hands to Ray: its own per-file function (the one its local loop calls),
    its engine factory, the words of its summary line and its failure line. Module-level functions
    travel to the workers by name, so the workers run the very code of the local run."""

    per_file: Callable[[Engine, Path, argparse.Namespace], object]  # raises a bad-input error on failure
    engine_factory: Callable[[str, int | None], Engine]
    done_words: str  # "images filled": the summary says "N of M images filled into OUT; F failed"
    failure_line: Callable[[Path, BaseException], str] = plain_failure_line


def treat_one(work: FolderWork, args: argparse.Namespace, path: Path) -> str | None:
    """The local loop's body for one photo; returns None, or its failure line."""
    key = (work.engine_factory.__module__, args.engine, getattr(args, "radius", None))
    if key not in _ENGINES:
        _ENGINES[key] = work.engine_factory(args.engine, getattr(args, "radius", None))
    try:
        work.per_file(_ENGINES[key], path, args)
    except (ImageError, MaskError, ValueError) as error:
        return work.failure_line(path, error)
    return None


def treat_files(work: FolderWork, args: argparse.Namespace, paths: list[Path]) -> list[tuple[Path, str | None]]:
    """One Ray task: several photos, each (path, None or its failure line)."""
    return [(path, treat_one(work, args, path)) for path in paths]


def run_folder_on_ray(args: argparse.Namespace, candidates: list[Path], work: FolderWork) -> int:
    """Treat ``candidates`` (the local run's list) as Ray tasks; prints the local run's summary."""
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
        failures = _run_tasks(ray, work, candidates, args)
    finally:
        if started_here:
            ray.shutdown()
    for _path, line in sorted(failures):
        print(line, file=sys.stderr)
    done = len(candidates) - len(failures)
    print(f"{done} of {len(candidates)} {work.done_words} into {args.output}; {len(failures)} failed")
    return 1 if failures else 0


def _chunks(paths: list[Path], size: int) -> Iterator[list[Path]]:
    for start in range(0, len(paths), size):
        yield paths[start:start + size]


def _run_tasks(ray, work: FolderWork, candidates: list[Path], args: argparse.Namespace) -> list[tuple[Path, str]]:
    remote = ray.remote(treat_files).options(
        num_cpus=args.ray_cpus, num_gpus=args.ray_gpus, max_retries=args.ray_retries, retry_exceptions=True,
    )
    work_ref, args_ref = ray.put(work), ray.put(_shippable(args))
    chunks = list(_chunks(candidates, args.ray_files_per_task))
    # A bounded window of tasks in flight keeps the driver's memory flat on folders of millions.
    window = max(8, 4 * int(ray.cluster_resources().get("CPU", 2)))
    pending: dict = {}
    failures: list[tuple[Path, str]] = []
    progress = _Progress(len(candidates))
    queue = iter(chunks)
    for chunk in queue:
        pending[remote.remote(work_ref, args_ref, chunk)] = chunk
        if len(pending) >= window:
            break
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        chunk = pending.pop(ready[0])
        failures.extend(_collect(ray, ready[0], chunk))
        progress.advance(len(chunk))
        following = next(queue, None)
        if following is not None:
            pending[remote.remote(work_ref, args_ref, following)] = following
    progress.close()
    return failures


def _shippable(args: argparse.Namespace) -> argparse.Namespace:
    """The command's options without its ``run`` function (the workers need only the values)."""
    return argparse.Namespace(**{key: value for key, value in vars(args).items() if key != "run"})


def _collect(ray, ref, chunk: list[Path]) -> list[tuple[Path, str]]:
    """The chunk's failure lines; every file of a task that failed after all its retries."""
    try:
        results = ray.get(ref)
    except Exception as error:  # noqa: BLE001 - a task that exhausted its retries fails its files, not the run
        reason = f"Ray task failed after its retries ({type(error).__name__}: {str(error).splitlines()[0][:200]})"
        return [(path, f"failed: {path}: {reason}") for path in chunk]
    return [(path, line) for path, line in results if line is not None]


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
