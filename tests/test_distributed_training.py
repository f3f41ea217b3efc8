"""Data-parallel training on the CPU: two gloo ranks in spawned processes, as ``torchrun`` would start them.

Checks that the ranks' weights stay bit-identical, that two ranks see together the batches of one
single-process run (same losses at the first step), that only rank 0 writes, and that a two-rank
checkpoint continues with two ranks and with one.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import socket
from pathlib import Path

import pytest
import torch

from inference.training.checkpoints import load_module_state, read_state
from inference.training.loop import TrainRequest, train
from inference.training.pack import prepare_pack
from inference.training.synthetic import write_synthetic_photos

RANK_TIMEOUT_S = 150


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _rank_main(rank: int, world: int, port: int, options: dict, report: str) -> None:
    """One rank: the environment torchrun would give it, then the ordinary trainer."""
    os.environ.update({"RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank),
                       "LOCAL_WORLD_SIZE": str(world), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    options = {**options, "out": Path(options["out"].replace("RANK", str(rank)))}
    result = train(TrainRequest(**options), log=lambda _line: None)
    Path(report.replace("RANK", str(rank))).write_text(json.dumps({
        "step": result.step, "samples_seen": result.samples_seen, "ranks": result.ranks,
        "digests": result.replica_digests,
    }))


def _run_ranks(world: int, report_dir: Path, **options) -> list[dict]:
    """Train ``world`` ranks in spawned processes; ``out`` may contain RANK (each rank's own folder)."""
    context = multiprocessing.get_context("spawn")
    port = _free_port()
    options = {key: str(value) if isinstance(value, Path) else value for key, value in options.items()}
    report = str(report_dir / "rank-RANK.json")
    processes = [context.Process(target=_rank_main, args=(rank, world, port, options, report))
                 for rank in range(world)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(RANK_TIMEOUT_S)
    for process in processes:
        if process.is_alive():
            process.kill()
    assert [process.exitcode for process in processes] == [0] * world
    return [json.loads((report_dir / f"rank-{rank}.json").read_text()) for rank in range(world)]


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ddp")
    source = write_synthetic_photos(folder / "source", count=6, seed=5)
    prepare_pack(source / "photos", folder / "pack", edges_folder=source / "edges", log=lambda _line: None)
    return folder / "pack"


@pytest.fixture(scope="module")
def two_rank_run(pack, tmp_path_factory):
    """DeepFill smoke, global batch 2 over 2 ranks, 2 steps, a checkpoint after every step."""
    folder = tmp_path_factory.mktemp("two-ranks")
    reports = _run_ranks(2, folder, model="deepfill", pack=pack, out=folder / "out-RANK", smoke=True,
                         steps=2, checkpoint_minutes=0.0, keep=5)
    return folder, reports


def _smoke(pack: Path, out: Path, **options) -> TrainRequest:
    return TrainRequest(model="deepfill", pack=pack, out=out, smoke=True, **options)


def _log(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


def test_two_ranks_keep_identical_weights_and_together_train_on_one_runs_batches(pack, two_rank_run, tmp_path):
    folder, reports = two_rank_run
    assert [report["step"] for report in reports] == [2, 2]
    assert [report["ranks"] for report in reports] == [2, 2]
    assert reports[0]["samples_seen"] == 4  # the global batch (2) per step
    # Every rank holds every rank's digest of its parameters and spectral-norm vectors: all equal.
    assert reports[0]["digests"] == reports[1]["digests"] and len(set(reports[0]["digests"])) == 1
    assert len(reports[0]["digests"]) == 2
    # Rank 0 alone writes: its folder has the log, previews and checkpoints; rank 1's does not exist.
    assert not (folder / "out-1").exists()
    state = read_state(folder / "out-0")
    assert state["step"] == 2 and state["runs"][-1]["ranks"] == 2

    single = tmp_path / "single"
    train(_smoke(pack, single, steps=1), log=lambda _line: None)
    # Step 1 starts from the same weights; its losses are means over the same two samples.
    together, alone = _log(folder / "out-0")[0], _log(single)[0]
    for name in ("d_hinge", "g_l1", "g_adversarial", "g_total"):
        assert math.isclose(together[name], alone[name], rel_tol=2e-3, abs_tol=1e-4), name


def test_a_two_rank_checkpoint_continues_with_two_ranks_and_with_one(pack, two_rank_run, tmp_path):
    folder, _ = two_rank_run
    checkpoint = folder / "out-0" / "checkpoints" / "step-0000002"
    reports = _run_ranks(2, tmp_path, model="deepfill", pack=pack, out=tmp_path / "again-RANK", smoke=True,
                         steps=3, resume=checkpoint)
    assert [report["step"] for report in reports] == [3, 3]
    assert reports[0]["digests"] == reports[1]["digests"] and len(set(reports[0]["digests"])) == 1
    state = read_state(tmp_path / "again-0")
    assert state["step"] == 3 and state["samples_seen"] == 6
    assert [run["started_step"] for run in state["runs"]] == [0, 2]
    assert [record["step"] for record in _log(tmp_path / "again-0")] == [3]

    one = train(_smoke(pack, tmp_path / "one", steps=3, resume=checkpoint), log=lambda _line: None)
    assert one.step == 3 and one.ranks == 1
    # One rank continues the same data stream: the step-3 weights agree with the two-rank ones
    # up to floating-point summation order.
    two_ranks, one_rank = load_module_state(tmp_path / "again-0"), load_module_state(tmp_path / "one")
    assert two_ranks.keys() == one_rank.keys()
    worst = max(float((two_ranks[key] - one_rank[key]).abs().max()) for key in two_ranks)
    assert worst < 1e-6
    moved = max(float((two_ranks[key] - load_module_state(checkpoint)[key]).abs().max()) for key in two_ranks)
    assert moved > 100 * worst  # the comparison is not trivially satisfied by weights that did not move
    assert torch.isfinite(torch.tensor(list(read_state(tmp_path / "one")["losses"].values()))).all()
