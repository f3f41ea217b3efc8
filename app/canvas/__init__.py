"""Showing images: the editing canvas (``editor_canvas``), a reusable zoomable pane (``pane``),
its display pyramid (``pyramid``) and shared zoom/pan state (``view``).

May import: app.tools, app.history and below, inference.
"""
