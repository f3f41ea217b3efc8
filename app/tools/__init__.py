"""Tools that turn pointer gestures into one undo command each (``painting``) and the raster
drawing they use, in image coordinates (``raster``, Qt-free), the Scratch brush (``scratch``) and the
Tool Options panel (``options``).

May import: app.history and below, inference.
"""
