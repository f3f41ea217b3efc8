"""Our own fuzz corpus: seeded bad inputs made at test time, run through fill, compare and weights import."""
