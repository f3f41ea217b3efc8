"""Which stored weight file each DeepFill v2 engine uses (no torch here: the registry, the CLI and the
editor ask this without loading anything)."""

from __future__ import annotations

from inference.weights.store import StoredWeights, find_weights

ARCHITECTURE_NAME = "deepfill_v2"
PLAIN_NAME = "deepfill_v2"
GUIDED_NAME = "deepfill_v2_guided"


def guided_weights() -> StoredWeights | None:
    """6-channel weights (a Guide channel), preferring the file named ``deepfill_v2_guided``."""
    return find_weights(ARCHITECTURE_NAME, prefer=GUIDED_NAME, input_channels=6)


def plain_weights() -> StoredWeights | None:
    """5-channel weights, preferring ``deepfill_v2``; else guided weights run with an empty Guide."""
    found = find_weights(ARCHITECTURE_NAME, prefer=PLAIN_NAME, input_channels=5)
    return found if found is not None else guided_weights()
