"""Engines: everything that fills a Hole.

The one contract (``contract``), the only list of engines (``registry``), the shared crop /
paste-back helper (``regions``) and every engine: OpenCVs classical fills (``classical``), the
neural base (``neural``), DeepFill v2 (``deepfill/``) and LBAM (``lbam/``).

May import: ``inference.weights`` and ``inference.io``. Never Qt, never evaluation, training or cli.
Importing this package imports nothing (torch only loads when a neural engine is built).
"""
