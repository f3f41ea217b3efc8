"""Weights: where weight files live (``store``), how foreign files are read (``reading``) and
imported safely (``importer``).

Every file is ``weights/NAME.safetensors`` with a JSON model card. Published ``.pth`` files are read
only with ``torch.load(weights_only=True)`` and checked key by key before they are stored.

May import: ``inference.io``. The network builders of each architecture are reached by module
name (``store.ARCHITECTURE_MODULES``), so this layer does not import the engines.
"""
