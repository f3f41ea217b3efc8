"""Content-aware fill by multi-scale PatchMatch (numba kernels, no weights)."""
