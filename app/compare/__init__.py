"""The Compare window (``window``): engines side by side (``grid``, ``panes``), its option
panel (``options``) and the background run (``run``)."""
