"""Image and Mask files at the edge of the program: opening, saving, converting (``images``,
``masks``), and a Document's layers kept on disk (``session``: ``.inpaint`` files; ``recovery``:
autosaved crash-recovery folders). Everything above this layer sees RGB ``uint8`` arrays and
``bool`` Masks only.

May import: nothing else of Inpaint Studio.
"""
