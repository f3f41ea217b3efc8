"""The registry of engines: the only place in the code that lists them.

Each entry says how to build the engine and whether it can run here. Building a neural engine
imports torch, so the registry only imports engine modules when an engine is created.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from inference.engines.contract import Engine
from inference.weights.store import find_weights

IMPORT_HINT = "import weights with: python main.py weights import FILE"
TRAIN_HINT = "or train them: python main.py train {model} (see docs/training.md)"


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str = ""
    fix: str = ""


@dataclass(frozen=True)
class EngineSpec:
    """How to build one engine and how to tell whether it can run."""

    name: str
    label: str
    accepts_guide: bool
    factory: str  # "module:callable", imported only when the engine is built
    availability: Callable[[], Availability]
    options: dict[str, Any] = field(default_factory=dict)  # option name -> default

    def check(self) -> Availability:
        return self.availability()

    def create(self, **options: Any) -> Engine:
        state = self.check()
        if not state.available:
            raise EngineUnavailable(f"{self.label} is not available: {state.reason}; {state.fix}")
        module_name, _, attribute = self.factory.partition(":")
        build = getattr(importlib.import_module(module_name), attribute)
        unknown = set(options) - set(self.options)
        if unknown:
            raise ValueError(f"{self.label} has no option {', '.join(sorted(unknown))}")
        return build(**{**self.options, **options})


class EngineUnavailable(RuntimeError):
    """The engine cannot run here (no weights, missing package); the message says how to fix it."""


def _always() -> Availability:
    return Availability(True)


def _numba() -> Availability:
    if importlib.util.find_spec("numba") is not None:
        return Availability(True)
    return Availability(False, "the numba package is not installed", "pip install numba")


def _pypatchmatch() -> Availability:
    from inference.engines.patch.library import library_available

    available, reason = library_available()
    if available:
        return Availability(True)
    return Availability(False, reason, "pip install pypatchmatch")


def _deepfill_weights(guided: bool) -> Availability:
    # The guided model also serves plain fills (with an empty guide), so either file will do then.
    found = find_weights("deepfill_v2", prefer="deepfill_v2_guided", input_channels=6)
    if found is None and not guided:
        found = find_weights("deepfill_v2", prefer="deepfill_v2", input_channels=5)
    if found is not None:
        return Availability(True)
    kind = "guided (6-channel)" if guided else "DeepFill v2"
    return Availability(
        False,
        f"no {kind} weights in weights/ (no trained weights yet)",
        f"{IMPORT_HINT}, {TRAIN_HINT.format(model='deepfill')}",
    )


def _lbam_weights() -> Availability:
    if find_weights("lbam", prefer="lbam") is not None:
        return Availability(True)
    return Availability(
        False,
        "no LBAM weights in weights/ (no trained weights yet)",
        f"{IMPORT_HINT}, {TRAIN_HINT.format(model='lbam')}",
    )


ENGINES: tuple[EngineSpec, ...] = (
    EngineSpec("telea", "Telea (OpenCV)", False, "inference.engines.classical:telea", _always, {"radius": 5}),
    EngineSpec("ns", "Navier–Stokes (OpenCV)", False, "inference.engines.classical:navier_stokes", _always, {"radius": 5}),
    EngineSpec(
        "patch", "Content-aware (PatchMatch)", True, "inference.engines.patch.engine:patch_engine", _numba,
        {"quality": "fast", "seed": 0, "context": None},  # context None: per quality
    ),
    EngineSpec(
        "patch_best", "Content-aware, best texture (pypatchmatch)", False,
        "inference.engines.patch.library:library_patch_engine", _pypatchmatch, {"seed": 0},
    ),
    EngineSpec(
        "deepfill_v2", "DeepFill v2", False, "inference.engines.deepfill.engine:plain_engine",
        lambda: _deepfill_weights(guided=False),
    ),
    EngineSpec(
        "deepfill_v2_guided", "DeepFill v2 guided", True, "inference.engines.deepfill.engine:guided_engine",
        lambda: _deepfill_weights(guided=True),
    ),
    EngineSpec("lbam", "LBAM", False, "inference.engines.lbam.engine:lbam_engine", _lbam_weights),
)


def engine_specs() -> tuple[EngineSpec, ...]:
    return ENGINES


def get_spec(name: str) -> EngineSpec:
    for spec in ENGINES:
        if spec.name == name:
            return spec
    known = ", ".join(spec.name for spec in ENGINES)
    raise KeyError(f"unknown engine {name!r}; known engines: {known}")


def create_engine(name: str, **options: Any) -> Engine:
    """Build the engine called ``name``; raises :class:`EngineUnavailable` with the fix when it cannot run."""
    return get_spec(name).create(**options)


def available_engine_names() -> list[str]:
    return [spec.name for spec in ENGINES if spec.check().available]
