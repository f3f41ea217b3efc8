"""The Compare window (``window``): engines side by side (``grid``, ``panes``), its option
panel (``options``) and the background run (``run``).

May import: app.canvas and below, inference. Not app.controllers (a neighbour) or app.window.
"""
