"""Evaluation: scoring fills and comparing engines.

``metrics`` (PSNR, SSIM, L1), ``maskgen`` (seeded simulated damage), ``compare`` (several engines on
one input), ``contact_sheet``, and the quality bench (``quality``, its inputs ``quality_data`` and
its worst-case sheet ``quality_sheet``).

May import: ``inference.engines``, ``inference.edges``, ``inference.weights``, ``inference.io``.
"""
